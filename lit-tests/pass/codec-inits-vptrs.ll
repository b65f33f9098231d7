; ABI v2 metadata: a codec field and a codec root point at their entry
; globals (7th field operand), a type's inits (6th operand) and vptrs (7th
; operand) become arrays; a vtable not in the module is declared.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-lower,verify -S %s | FileCheck %s

%Entry = type { ptr, ptr, ptr, ptr, ptr, i8 }
@entry.str = linkonce_odr constant %Entry zeroinitializer
@entry.vec = linkonce_odr constant %Entry zeroinitializer
@transient.mutex = linkonce_odr constant %Entry zeroinitializer
@_ZTV5Shape = linkonce_odr unnamed_addr constant { [5 x ptr], [3 x ptr] } zeroinitializer
@all = global [24 x i8] zeroinitializer

; CHECK: %checksync.field_desc = type { ptr, i64, i32, i32, i64, ptr, ptr, ptr, ptr, i64, i64 }
; CHECK: %checksync.vptr_desc = type { i64, ptr }
; CHECK: %checksync.type_desc = type { ptr, ptr, i64, i64, i64, ptr, i64, ptr, i64, ptr, ptr }

; CHECK: @_ZTV5Other = external constant [0 x ptr]
; CHECK: @checksync.fields.5Shape = private unnamed_addr constant [2 x %checksync.field_desc] [%checksync.field_desc { ptr @{{[^,]*}}, i64 8, i32 7, i32 32, i64 1, ptr @[[STRNAME:checksync.str[.0-9]*]], ptr @entry.str, ptr null, ptr null, i64 0, i64 0 }, %checksync.field_desc { ptr @{{[^,]*}}, i64 40, i32 7, i32 24, i64 2, ptr @{{[^,]*}}, ptr @entry.vec, ptr null, ptr null, i64 0, i64 0 }]
; CHECK: @checksync.inits.5Shape = private unnamed_addr constant [1 x %checksync.field_desc] [%checksync.field_desc { ptr @{{[^,]*}}, i64 88, i32 7, i32 40, i64 1, ptr @{{[^,]*}}, ptr @transient.mutex, ptr null, ptr null, i64 0, i64 0 }]
; CHECK: @checksync.vptrs.5Shape = private unnamed_addr constant [2 x %checksync.vptr_desc] [%checksync.vptr_desc { i64 0, ptr getelementptr (i8, ptr @_ZTV5Shape, i64 16) }, %checksync.vptr_desc { i64 128, ptr getelementptr (i8, ptr @_ZTV5Other, i64 56) }]
; CHECK: @checksync.types = private constant [1 x %checksync.type_desc] [%checksync.type_desc { ptr @{{[^,]*}}, ptr @{{[^,]*}}, i64 136, i64 8, i64 2, ptr @checksync.fields.5Shape, i64 1, ptr @checksync.inits.5Shape, i64 2, ptr @checksync.vptrs.5Shape, ptr null }]
; CHECK: @checksync.roots = private constant [1 x %checksync.root_desc] [%checksync.root_desc { ptr @all, %checksync.field_desc { ptr @{{[^,]*}}, i64 0, i32 7, i32 24, i64 1, ptr @{{[^,]*}}, ptr @entry.vec, ptr null, ptr null, i64 0, i64 0 } }]
; CHECK: @checksync.module = private constant %checksync.module_desc { i64 5, i64 1, ptr @checksync.types, i64 1, ptr @checksync.roots }
; CHECK: !checksync.lowered = !{![[L:[0-9]+]]}
; CHECK: ![[L]] = !{!"v2"}

!checksync.types = !{!0}
!checksync.roots = !{!20}
!0 = !{!"5Shape", !"Shape", i64 136, i64 8, !1, !4, !6}
!1 = !{!3, !2}
!2 = !{!"name", i64 8, !"codec", i64 32, i64 1, !"std::string", !"entry.str"}
!3 = !{!"values", i64 40, !"codec", i64 24, i64 2, !"std::vector<int>", !"entry.vec"}
!4 = !{!5}
!5 = !{!"lock", i64 88, !"codec", i64 40, i64 1, !"std::mutex", !"transient.mutex"}
!6 = !{!8, !7}
!7 = !{i64 0, !"_ZTV5Shape", i64 16}
!8 = !{i64 128, !"_ZTV5Other", i64 56}
!20 = !{ptr @all, !"all", !"codec", i64 24, i64 1, !"std::vector<Node *>", !"entry.vec"}
