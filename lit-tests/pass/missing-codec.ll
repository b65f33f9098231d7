; A codec field whose entry global is not in the module, or without an entry
; symbol at all, is a fatal error.
; RUN: split-file %s %t
; RUN: not %opt -load-pass-plugin=%passplugin -passes=checksync-lower -disable-output %t/missing.ll 2>&1 | FileCheck %s --check-prefix=MISSING
; RUN: not %opt -load-pass-plugin=%passplugin -passes=checksync-lower -disable-output %t/nosym.ll 2>&1 | FileCheck %s --check-prefix=NOSYM
; RUN: not %opt -load-pass-plugin=%passplugin -passes=checksync-lower -disable-output %t/badvptr.ll 2>&1 | FileCheck %s --check-prefix=BADVPTR

; MISSING: checksync-lower: codec entry '_ZN9checksync5codec5entryISt6vectorIiSaIiEEEE' of type '4Node' field 'values' is not in the module (the clang plugin instantiates checksync::codec::entry<T> from <checksync/codec.h>)
; NOSYM: checksync-lower: malformed type '4Node' field 'values': codec field without a codec entry symbol
; BADVPTR: checksync-lower: malformed type '4Node' vptr: operand 1 is not a string

;--- missing.ll
!checksync.types = !{!0}
!0 = !{!"4Node", !"Node", i64 24, i64 8, !1, !{}, !{}}
!1 = !{!2}
!2 = !{!"values", i64 0, !"codec", i64 24, i64 1, !"std::vector<int>", !"_ZN9checksync5codec5entryISt6vectorIiSaIiEEEE"}

;--- nosym.ll
!checksync.types = !{!0}
!0 = !{!"4Node", !"Node", i64 24, i64 8, !1}
!1 = !{!2}
!2 = !{!"values", i64 0, !"codec", i64 24, i64 1, !"std::vector<int>"}

;--- badvptr.ll
!checksync.types = !{!0}
!0 = !{!"4Node", !"Node", i64 8, i64 8, !{}, !{}, !1}
!1 = !{!2}
!2 = !{i64 0, i64 5, i64 16}
