; A placeholder whose type key has no descriptor is a fatal error.
; RUN: not %opt -load-pass-plugin=%passplugin -passes=checksync-lower -disable-output %s 2>&1 | FileCheck %s
; CHECK: checksync-lower: 'checksync.new.5Other' allocates type key '5Other' but the module's !checksync.types has no such type

define ptr @make() {
  %p = call ptr @"checksync.new.5Other"(i64 8)
  ret ptr %p
}
declare ptr @"checksync.new.5Other"(i64)

!checksync.types = !{!0}
!0 = !{!"4Node", !"Node", i64 8, i64 8, !1}
!1 = !{}
