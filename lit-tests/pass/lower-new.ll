; Calls and invokes of @"checksync.new.<key>" become calls/invokes of
; @checksync_rt_new with the type descriptor; the placeholders disappear.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-lower,verify -S %s | FileCheck %s

declare ptr @"checksync.new.4Node"(i64)
declare void @use(ptr)
declare i32 @__gxx_personality_v0(...)

; CHECK-NOT: checksync.new.
; CHECK: @checksync.type.4Node = private alias %checksync.type_desc, ptr @checksync.types

; CHECK-LABEL: define ptr @single()
; CHECK-NEXT: %p = call noalias nonnull ptr @checksync_rt_new(ptr @checksync.type.4Node, i64 16) #[[ATTR:[0-9]+]]
; CHECK-NEXT: ret ptr %p
define ptr @single() {
  %p = call ptr @"checksync.new.4Node"(i64 16)
  ret ptr %p
}

; CHECK-LABEL: define ptr @array(i64 %n)
; CHECK: %size = mul i64 %n, 16
; CHECK-NEXT: %p = call noalias nonnull ptr @checksync_rt_new(ptr @checksync.type.4Node, i64 %size)
define ptr @array(i64 %n) {
  %size = mul i64 %n, 16
  %p = call ptr @"checksync.new.4Node"(i64 %size)
  ret ptr %p
}

; CHECK-LABEL: define ptr @invoked() personality ptr @__gxx_personality_v0
; CHECK: %p = invoke noalias nonnull ptr @checksync_rt_new(ptr @checksync.type.4Node, i64 16)
; CHECK-NEXT: to label %ok unwind label %lpad
define ptr @invoked() personality ptr @__gxx_personality_v0 {
entry:
  %p = invoke ptr @"checksync.new.4Node"(i64 16)
          to label %ok unwind label %lpad
ok:
  call void @use(ptr %p)
  ret ptr %p
lpad:
  %lp = landingpad { ptr, i32 } cleanup
  resume { ptr, i32 } %lp
}

; CHECK: declare noalias nonnull ptr @checksync_rt_new(ptr, i64) #[[DECL:[0-9]+]]
; CHECK-DAG: attributes #[[ATTR]] = { allocsize(1) }
; CHECK-DAG: attributes #[[DECL]] = { nounwind allocsize(1) }

!checksync.types = !{!0}
!0 = !{!"4Node", !"Node", i64 16, i64 8, !1}
!1 = !{!2, !3}
!2 = !{!"key", i64 0, !"int", i64 8, i64 1, !""}
!3 = !{!"next", i64 8, !"ref", i64 8, i64 1, !"4Node"}
