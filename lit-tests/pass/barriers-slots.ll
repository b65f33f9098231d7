; Clang keeps references and pointer locals in stack slots until SROA runs
; (after this pass). A derived pointer stored into a slot that is only loaded
; and stored is not an escape: the pass follows the slot's loads instead, so a
; read through the slot gets no barrier and a write through it gets one.
; A slot whose address is taken (here: passed to a call) is an escape.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-barriers,verify -S %s | FileCheck %s

@.str = private unnamed_addr constant [21 x i8] c"checksync.field:1N:8\00", section "llvm.metadata"
@.file = private unnamed_addr constant [6 x i8] c"a.cpp\00", section "llvm.metadata"

; CHECK-LABEL: define i64 @read_through_slot(ptr %n)
; CHECK-NOT: checksync.barrier
; CHECK: ret i64
define i64 @read_through_slot(ptr %n) {
  %ref = alloca ptr
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store ptr %a, ptr %ref
  %p = load ptr, ptr %ref
  %v = load i64, ptr %p
  ret i64 %v
}

; CHECK-LABEL: define void @write_through_slot(ptr %n)
; CHECK: %p = load ptr, ptr %ref
; CHECK-NEXT: call void @checksync.barrier(ptr %p)
; CHECK-NEXT: store i64 1, ptr %p
define void @write_through_slot(ptr %n) {
  %ref = alloca ptr
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store ptr %a, ptr %ref
  %p = load ptr, ptr %ref
  store i64 1, ptr %p
  ret void
}

; CHECK-LABEL: define void @slot_escapes(ptr %n)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: store ptr %f, ptr %ref
define void @slot_escapes(ptr %n) {
  %ref = alloca ptr
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store ptr %a, ptr %ref
  call void @opaque(ptr %ref)
  ret void
}

declare void @opaque(ptr)
declare ptr @llvm.ptr.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
