; Redundant barrier elimination, per basic block.
; (i) A barrier (or mark_range) on the same underlying object as an earlier
;     barrier, with no call in between other than intrinsics, is removed.
;     Pointers reloaded from a local's stack slot count as the value last
;     stored there (unoptimised IR at pipeline start).
; (ii) Writes into an object allocated earlier in the block
;     (checksync_rt_new, checksync.new.*) with no call since need none.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-barriers,verify -S %s | FileCheck %s
; RUN: env CHECKSYNC_BARRIER_STATS=1 %opt -load-pass-plugin=%passplugin -passes=checksync-barriers -disable-output %s 2>&1 | FileCheck %s --check-prefix=STATS

; STATS: checksync-barriers: {{.*}}barriers-elim.ll: 16 annotations, 17 barriers, 2 mark_range, 8 removed

@.str = private unnamed_addr constant [21 x i8] c"checksync.field:1N:8\00", section "llvm.metadata"
@.str.0 = private unnamed_addr constant [21 x i8] c"checksync.field:1N:0\00", section "llvm.metadata"
@.file = private unnamed_addr constant [6 x i8] c"a.cpp\00", section "llvm.metadata"
@desc = external constant [80 x i8]

; CHECK-LABEL: define void @same_object(ptr %n, ptr %s)
; CHECK-COUNT-1: call void @checksync.barrier(ptr
; CHECK-NOT: call void @checksync
; CHECK: ret void
define void @same_object(ptr %n, ptr %s) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a
  call void @llvm.lifetime.start.p0(i64 8, ptr %s)
  %b = call ptr @llvm.ptr.annotation.p0.p0(ptr %n, ptr @.str.0, ptr @.file, i32 3, ptr null)
  store i64 2, ptr %b
  call void @llvm.memcpy.p0.p0.i64(ptr %a, ptr %s, i64 8, i1 false)
  ret void
}

; CHECK-LABEL: define void @call_between(ptr %n)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: store i64 1
; CHECK-NEXT: call void @opaque()
; CHECK-NEXT: call void @checksync.barrier(ptr %n)
; CHECK-NEXT: store i64 2
define void @call_between(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a
  call void @opaque()
  %b = call ptr @llvm.ptr.annotation.p0.p0(ptr %n, ptr @.str.0, ptr @.file, i32 3, ptr null)
  store i64 2, ptr %b
  ret void
}

; CHECK-LABEL: define void @other_block(ptr %n)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK: next:
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
define void @other_block(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a
  br label %next
next:
  store i64 2, ptr %a
  ret void
}

; CHECK-LABEL: define void @two_objects(ptr %n, ptr %m)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK: call void @checksync.barrier(ptr %g)
define void @two_objects(ptr %n, ptr %m) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a
  %g = getelementptr inbounds i8, ptr %m, i64 8
  %b = call ptr @llvm.ptr.annotation.p0.p0(ptr %g, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 2, ptr %b
  ret void
}

; Unoptimised IR: `n` lives in a stack slot and is reloaded for each access.
; CHECK-LABEL: define void @stack_slot(ptr %n, ptr %m)
; CHECK: call void @checksync.barrier(ptr %f0)
; CHECK-NOT: call void @checksync.barrier
; CHECK: store ptr %m, ptr %n.addr
; CHECK: call void @checksync.barrier(ptr %f2)
; CHECK-NOT: call void @checksync.barrier
; CHECK: ret void
define void @stack_slot(ptr %n, ptr %m) {
  %n.addr = alloca ptr
  store ptr %n, ptr %n.addr
  %l0 = load ptr, ptr %n.addr
  %f0 = getelementptr inbounds i8, ptr %l0, i64 8
  %a0 = call ptr @llvm.ptr.annotation.p0.p0(ptr %f0, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a0
  %l1 = load ptr, ptr %n.addr
  %a1 = call ptr @llvm.ptr.annotation.p0.p0(ptr %l1, ptr @.str.0, ptr @.file, i32 3, ptr null)
  store i64 2, ptr %a1
  store ptr %m, ptr %n.addr
  %l2 = load ptr, ptr %n.addr
  %f2 = getelementptr inbounds i8, ptr %l2, i64 8
  %a2 = call ptr @llvm.ptr.annotation.p0.p0(ptr %f2, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 3, ptr %a2
  %l3 = load ptr, ptr %n.addr
  %a3 = call ptr @llvm.ptr.annotation.p0.p0(ptr %l3, ptr @.str.0, ptr @.file, i32 3, ptr null)
  store i64 4, ptr %a3
  ret void
}

; (ii) CHECK-LABEL: define ptr @fresh(ptr %s)
; CHECK-NOT: call void @checksync
; CHECK: ret ptr %p
define ptr @fresh(ptr %s) {
  %p = call ptr @checksync_rt_new(ptr @desc, i64 16)
  %f = getelementptr inbounds i8, ptr %p, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a
  call void @llvm.memset.p0.i64(ptr %p, i8 0, i64 8, i1 false)
  ret ptr %p
}

; CHECK-LABEL: define ptr @fresh_placeholder_slot()
; CHECK-NOT: call void @checksync
; CHECK: ret ptr
define ptr @fresh_placeholder_slot() {
  %p.addr = alloca ptr
  %p = call ptr @"checksync.new.1N"(i64 16)
  store ptr %p, ptr %p.addr
  %l0 = load ptr, ptr %p.addr
  %f = getelementptr inbounds i8, ptr %l0, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a
  %l1 = load ptr, ptr %p.addr
  ret ptr %l1
}

; A constructor (any call) between allocation and store: barrier kept.
; CHECK-LABEL: define ptr @fresh_then_call()
; CHECK: call void @opaque()
; CHECK: call void @checksync.barrier(ptr %f)
define ptr @fresh_then_call() {
  %p = call ptr @checksync_rt_new(ptr @desc, i64 16)
  call void @opaque()
  %f = getelementptr inbounds i8, ptr %p, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a
  ret ptr %p
}

; An invoked allocation counts in its normal destination.
; CHECK-LABEL: define ptr @fresh_invoke()
; CHECK-NOT: call void @checksync
; CHECK: ret ptr %p
define ptr @fresh_invoke() personality ptr @__gxx_personality_v0 {
  %p = invoke ptr @"checksync.new.1N"(i64 16) to label %ok unwind label %lp
ok:
  %f = getelementptr inbounds i8, ptr %p, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %a
  ret ptr %p
lp:
  %l = landingpad { ptr, i32 } cleanup
  resume { ptr, i32 } %l
}

; Not the same block as the allocation: barrier kept.
; CHECK-LABEL: define ptr @fresh_other_block()
; CHECK: next:
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
define ptr @fresh_other_block() {
  %p = call ptr @checksync_rt_new(ptr @desc, i64 16)
  %f = getelementptr inbounds i8, ptr %p, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  br label %next
next:
  store i64 1, ptr %a
  ret ptr %p
}

declare void @opaque()
declare ptr @checksync_rt_new(ptr, i64)
declare ptr @"checksync.new.1N"(i64)
declare i32 @__gxx_personality_v0(...)
declare ptr @llvm.ptr.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
declare void @llvm.lifetime.start.p0(i64, ptr)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
