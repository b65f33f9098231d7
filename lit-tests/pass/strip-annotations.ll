; The plugin's "checksync.*" annotations are removed; others are kept.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-lower,verify -S %s | FileCheck %s

@.str = private unnamed_addr constant [20 x i8] c"checksync.transient\00", section "llvm.metadata"
@.str.1 = private unnamed_addr constant [6 x i8] c"a.cpp\00", section "llvm.metadata"
@.str.2 = private unnamed_addr constant [15 x i8] c"checksync.root\00", section "llvm.metadata"
@.str.3 = private unnamed_addr constant [5 x i8] c"mine\00", section "llvm.metadata"
@head = global ptr null
@other = global i32 0
@llvm.global.annotations = appending global [2 x { ptr, ptr, ptr, i32, ptr }] [{ ptr, ptr, ptr, i32, ptr } { ptr @head, ptr @.str.2, ptr @.str.1, i32 3, ptr null }, { ptr, ptr, ptr, i32, ptr } { ptr @other, ptr @.str.3, ptr @.str.1, i32 4, ptr null }], section "llvm.metadata"

; CHECK-NOT: checksync.transient
; CHECK-NOT: checksync.root\00
; CHECK: @llvm.global.annotations = appending global [1 x { ptr, ptr, ptr, i32, ptr }] [{ ptr, ptr, ptr, i32, ptr } { ptr @other, ptr @.str.3, ptr @.str.1, i32 4, ptr null }], section "llvm.metadata"

; CHECK-LABEL: define ptr @field(ptr %obj)
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %obj, i64 8
; CHECK-NEXT: ret ptr %f
define ptr @field(ptr %obj) {
  %f = getelementptr inbounds i8, ptr %obj, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.str.1, i32 7, ptr null)
  ret ptr %a
}
declare ptr @llvm.ptr.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)

!checksync.roots = !{!0}
!0 = !{ptr @head, !"head", !"ref", i64 8, i64 1, !"4Node"}
