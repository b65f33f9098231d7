; Without metadata, the pass leaves a module unchanged; placeholders without
; any schema are an error.
; RUN: split-file %s %t
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-lower -S %t/plain.ll | FileCheck %s
; RUN: not %opt -load-pass-plugin=%passplugin -passes=checksync-lower -disable-output %t/orphan.ll 2>&1 | FileCheck %s --check-prefix=ORPHAN

; CHECK-NOT: checksync
; CHECK-LABEL: define i32 @f()
; CHECK-NOT: checksync

; ORPHAN: 'checksync.new.4Node' allocates type key '4Node' but the module's !checksync.types has no such type

;--- plain.ll
define i32 @f() {
  ret i32 0
}

;--- orphan.ll
define ptr @g() {
  %p = call ptr @"checksync.new.4Node"(i64 8)
  ret ptr %p
}
declare ptr @"checksync.new.4Node"(i64)
