; Rule (a): stores, atomicrmw and cmpxchg through an annotated field address
; (and pointers derived from it by GEPs, casts, phis and selects) get a
; barrier before the write; the annotation is replaced by its operand.
; Stores to memory that is not annotated are left alone. The barrier is the
; abi.h fast path, emitted once per module. Running the pass twice (or
; checksync-lower after it) changes nothing more.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-barriers,verify -S %s | FileCheck %s
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync,verify -S %s | FileCheck %s
; checksync-lower alone never inserts barriers: on annotations nobody processed it stops.
; RUN: not %opt -load-pass-plugin=%passplugin -passes=checksync-lower -S %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=ALONE
; ALONE: error: checksync-lower: {{.*}} has persistent-field annotations that no barrier pass processed; lowering would drop them and the writes they mark: run -passes=checksync-barriers,checksync-lower (or -passes=checksync)
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-barriers,checksync-barriers,checksync-lower,verify -S %s | FileCheck %s

@.str = private unnamed_addr constant [21 x i8] c"checksync.field:1N:8\00", section "llvm.metadata"
@.str.user = private unnamed_addr constant [5 x i8] c"mine\00", section "llvm.metadata"
@.file = private unnamed_addr constant [6 x i8] c"a.cpp\00", section "llvm.metadata"

; CHECK-NOT: checksync.field
; CHECK: @checksync_rt_cards = external global { i64, i64, ptr, ptr, i64 }

; CHECK-LABEL: define void @store(ptr %n, i64 %v)
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %n, i64 8
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: store i64 %v, ptr %f
; CHECK-NEXT: ret void
define void @store(ptr %n, i64 %v) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store i64 %v, ptr %a
  ret void
}

; CHECK-LABEL: define void @atomics(ptr %n)
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %n, i64 8
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: atomicrmw add ptr %f, i64 1 seq_cst
; CHECK-NEXT: call void @opaque()
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: cmpxchg ptr %f, i64 0, i64 1 seq_cst seq_cst
; CHECK-NEXT: load i64, ptr %f
; CHECK-NEXT: ret void
define void @atomics(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  %x = atomicrmw add ptr %a, i64 1 seq_cst
  call void @opaque()
  %y = cmpxchg ptr %a, i64 0, i64 1 seq_cst seq_cst
  %z = load i64, ptr %a
  ret void
}

; Derived pointers: array element, phi, select, addrspacecast.
; CHECK-LABEL: define void @derived(ptr %n, ptr %m, i64 %i, i1 %c)
; CHECK: %e = getelementptr inbounds i64, ptr %f, i64 %i
; CHECK-NEXT: call void @checksync.barrier(ptr %e)
; CHECK-NEXT: store i64 1, ptr %e
; CHECK: join:
; CHECK-NEXT: %p = phi ptr [ %f, %entry ], [ %g, %other ]
; CHECK-NEXT: %s = select i1 %c, ptr %p, ptr %m
; CHECK-NEXT: call void @checksync.barrier(ptr %s)
; CHECK-NEXT: store i64 2, ptr %s
; CHECK-NEXT: %as = addrspacecast ptr %p to ptr addrspace(1)
; CHECK-NEXT: call void @opaque()
; CHECK-NEXT: [[C:%.*]] = addrspacecast ptr addrspace(1) %as to ptr
; CHECK-NEXT: call void @checksync.barrier(ptr [[C]])
; CHECK-NEXT: store i64 3, ptr addrspace(1) %as
define void @derived(ptr %n, ptr %m, i64 %i, i1 %c) {
entry:
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  %e = getelementptr inbounds i64, ptr %a, i64 %i
  store i64 1, ptr %e
  br i1 %c, label %join, label %other
other:
  %g = getelementptr inbounds i8, ptr %m, i64 8
  br label %join
join:
  %p = phi ptr [ %a, %entry ], [ %g, %other ]
  %s = select i1 %c, ptr %p, ptr %m
  store i64 2, ptr %s
  %as = addrspacecast ptr %p to ptr addrspace(1)
  call void @opaque()
  store i64 3, ptr addrspace(1) %as
  ret void
}

; Not annotated (rule 3), and a user's own annotation: untouched.
; CHECK-LABEL: define void @plain(ptr %n)
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %n, i64 8
; CHECK-NEXT: %u = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str.user
; CHECK-NEXT: store i64 1, ptr %u
; CHECK-NEXT: store i64 2, ptr %n
; CHECK-NEXT: ret void
define void @plain(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %u = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str.user, ptr @.file, i32 3, ptr null)
  store i64 1, ptr %u
  store i64 2, ptr %n
  ret void
}

; CHECK-LABEL: define internal void @checksync.barrier(ptr nocapture %p)
; CHECK-SAME: [[ATTR:#[0-9]+]]
; CHECK-NEXT: entry:
; CHECK-NEXT: %lo = load i64, ptr @checksync_rt_cards, align 8, !tbaa [[HDR:![0-9]+]]
; CHECK-NEXT: %span = load i64, ptr getelementptr inbounds ({ i64, i64, ptr, ptr, i64 }, ptr @checksync_rt_cards, i32 0, i32 1), align 8, !tbaa [[HDR]]
; CHECK-NEXT: %addr = ptrtoint ptr %p to i64
; CHECK-NEXT: %d = sub i64 %addr, %lo
; CHECK-NEXT: %in = icmp ult i64 %d, %span
; CHECK-NEXT: br i1 %in, label %mark, label %done
; CHECK: mark:
; CHECK-NEXT: %cards = load ptr, ptr getelementptr inbounds ({ i64, i64, ptr, ptr, i64 }, ptr @checksync_rt_cards, i32 0, i32 2), align 8, !tbaa [[HDR]]
; CHECK-NEXT: %ci = lshr i64 %d, 6
; CHECK-NEXT: %card = getelementptr inbounds i8, ptr %cards, i64 %ci
; Only while a delta is being encoded is the card read:
; CHECK-NEXT: %in_flight = load i64, ptr getelementptr inbounds ({ i64, i64, ptr, ptr, i64 }, ptr @checksync_rt_cards, i32 0, i32 4), align 8, !tbaa [[HDR]]
; CHECK-NEXT: %quiet = icmp eq i64 %in_flight, 0
; CHECK-NEXT: br i1 %quiet, label %clean, label %check_card, !prof
; CHECK: check_card:
; CHECK-NEXT: %old = load atomic i8, ptr %card monotonic, align 1, !tbaa [[MARK:![0-9]+]]
; CHECK-NEXT: %flag = and i8 %old, 2
; CHECK-NEXT: %not_in_flight = icmp eq i8 %flag, 0
; CHECK-NEXT: br i1 %not_in_flight, label %clean, label %copy_first, !prof
; CHECK: clean:
; CHECK-NEXT: store atomic i8 1, ptr %card monotonic, align 1, !tbaa [[MARK]]
; CHECK-NEXT: br label %mark_page
; A card of a delta still being encoded: the runtime copies the object first.
; CHECK: copy_first:
; CHECK-NEXT: call preserve_mostcc void @checksync_rt_write_slow(ptr %p)
; CHECK-NEXT: br label %mark_page
; CHECK: mark_page:
; CHECK-NEXT: %pages = load ptr, ptr getelementptr inbounds ({ i64, i64, ptr, ptr, i64 }, ptr @checksync_rt_cards, i32 0, i32 3), align 8, !tbaa [[HDR]]
; CHECK-NEXT: %pi = lshr i64 %d, 12
; CHECK-NEXT: %page = getelementptr inbounds i8, ptr %pages, i64 %pi
; CHECK-NEXT: store atomic i8 1, ptr %page monotonic, align 1, !tbaa [[MARK]]
; CHECK-NEXT: br label %done
; CHECK: done:
; CHECK-NEXT: ret void
; CHECK-NOT: define internal void @checksync.barrier
; CHECK: declare preserve_mostcc void @checksync_rt_write_slow(ptr nocapture) [[SLOW:#[0-9]+]]
; CHECK: attributes [[ATTR]] = { alwaysinline {{.*}}nounwind willreturn
; The slow path reads the object and writes only runtime memory.
; CHECK: attributes [[SLOW]] = { cold nounwind willreturn memory(read, inaccessiblemem: readwrite) }
; CHECK: !checksync.barriers = !{![[V:[0-9]+]]}
; CHECK: ![[V]] = !{!"v1"}
; The header loads and the mark stores have TBAA types of their own under
; clang's C++ root, so LICM can hoist the header loads out of loops.
; CHECK-DAG: [[HDR]] = !{[[HDRTY:![0-9]+]], [[HDRTY]], i64 0}
; CHECK-DAG: [[HDRTY]] = !{!"checksync card table", [[CHAR:![0-9]+]], i64 0}
; CHECK-DAG: [[MARK]] = !{[[MARKTY:![0-9]+]], [[MARKTY]], i64 0}
; CHECK-DAG: [[MARKTY]] = !{!"checksync card mark", [[CHAR]], i64 0}
; CHECK-DAG: [[CHAR]] = !{!"omnipotent char", [[ROOT:![0-9]+]], i64 0}
; CHECK-DAG: [[ROOT]] = !{!"Simple C++ TBAA"}

declare void @opaque()
declare ptr @llvm.ptr.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
declare ptr addrspace(1) @llvm.ptr.annotation.p1.p0(ptr addrspace(1), ptr, ptr, i32, ptr)
