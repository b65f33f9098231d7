; Running the pass twice (e.g. -fplugin plus -fpass-plugin) lowers once.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-lower,checksync-lower,verify -S %s | FileCheck %s
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-lower -S %s \
; RUN:   | %opt -load-pass-plugin=%passplugin -passes=checksync-lower,verify -S | FileCheck %s

; CHECK-COUNT-1: @checksync.module = private constant
; CHECK-NOT: @checksync.module
; CHECK: @llvm.global_ctors = appending global [1 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 101, ptr @checksync.register, ptr null }]
; CHECK-NOT: checksync.register.1

; CHECK-LABEL: define ptr @make()
; CHECK-NEXT: call noalias nonnull ptr @checksync_rt_new(
define ptr @make() {
  %p = call ptr @"checksync.new.4Node"(i64 8)
  ret ptr %p
}
declare ptr @"checksync.new.4Node"(i64)

; CHECK-COUNT-1: define internal void @checksync.register()
; CHECK-NOT: define internal void @checksync.register

!checksync.types = !{!0}
!0 = !{!"4Node", !"Node", i64 8, i64 8, !1}
!1 = !{!2}
!2 = !{!"next", i64 0, !"ref", i64 8, i64 1, !"4Node"}
