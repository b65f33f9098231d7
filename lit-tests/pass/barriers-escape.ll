; Rule (b): a derived pointer that escapes (stored as a value, converted by
; ptrtoint, returned, or used in a way the pass does not follow) gets a
; barrier where it escapes. Loads and comparisons get none.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-barriers,verify -S %s | FileCheck %s

@.str = private unnamed_addr constant [21 x i8] c"checksync.field:1N:8\00", section "llvm.metadata"
@.file = private unnamed_addr constant [6 x i8] c"a.cpp\00", section "llvm.metadata"
@slot = global ptr null

; CHECK-LABEL: define void @stored(ptr %n)
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %n, i64 8
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: store ptr %f, ptr @slot
; CHECK-NEXT: ret void
define void @stored(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  store ptr %a, ptr @slot
  ret void
}

; CHECK-LABEL: define i64 @toint(ptr %n)
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %n, i64 8
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: %i = ptrtoint ptr %f to i64
define i64 @toint(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  %i = ptrtoint ptr %a to i64
  ret i64 %i
}

; CHECK-LABEL: define ptr @returned(ptr %n)
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %n, i64 8
; CHECK-NEXT: %v = load i64, ptr %f
; CHECK-NEXT: %c = icmp eq ptr %f, %n
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: ret ptr %f
define ptr @returned(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  %v = load i64, ptr %a
  %c = icmp eq ptr %a, %n
  ret ptr %a
}

; CHECK-LABEL: define { ptr } @aggregate(ptr %n)
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %n, i64 8
; CHECK-NEXT: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: %s = insertvalue { ptr } undef, ptr %f, 0
define { ptr } @aggregate(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  %s = insertvalue { ptr } undef, ptr %a, 0
  ret { ptr } %s
}

declare ptr @llvm.ptr.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
