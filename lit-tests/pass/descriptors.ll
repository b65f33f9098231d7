; Descriptor layout (abi.h): fields, types, roots, the module descriptor and
; the registration constructor at priority 101.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-lower,verify -S %s | FileCheck %s

@head = global ptr null
@counts = global [4 x i32] zeroinitializer
@llvm.global_ctors = appending global [1 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 65535, ptr @user_init, ptr null }]

define void @user_init() {
  ret void
}

; CHECK: %checksync.field_desc = type { ptr, i64, i32, i32, i64, ptr, ptr, ptr, ptr, i64, i64 }
; CHECK: %checksync.type_desc = type { ptr, ptr, i64, i64, i64, ptr, i64, ptr, i64, ptr, ptr }
; CHECK: %checksync.root_desc = type { ptr, %checksync.field_desc }
; CHECK: %checksync.module_desc = type { i64, i64, ptr, i64, ptr }

; CHECK: @[[KEY:checksync.str[.0-9]*]] = private unnamed_addr constant [4 x i8] c"key\00", align 1
; CHECK: @[[N4:checksync.str[.0-9]*]] = private unnamed_addr constant [6 x i8] c"4Node\00", align 1
; CHECK: @[[LEFT:checksync.str[.0-9]*]] = private unnamed_addr constant [5 x i8] c"left\00", align 1
; CHECK: @[[W:checksync.str[.0-9]*]] = private unnamed_addr constant [2 x i8] c"w\00", align 1
; CHECK: @[[PT:checksync.str[.0-9]*]] = private unnamed_addr constant [7 x i8] c"5Point\00", align 1
; CHECK: @[[P:checksync.str[.0-9]*]] = private unnamed_addr constant [2 x i8] c"p\00", align 1
; CHECK: @checksync.fields.4Node = private unnamed_addr constant [4 x %checksync.field_desc] [%checksync.field_desc { ptr @[[KEY]], i64 0, i32 1, i32 8, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 }, %checksync.field_desc { ptr @[[LEFT]], i64 8, i32 5, i32 8, i64 1, ptr @[[N4]], ptr null, ptr null, ptr null, i64 0, i64 0 }, %checksync.field_desc { ptr @[[W]], i64 16, i32 3, i32 4, i64 6, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 }, %checksync.field_desc { ptr @[[P]], i64 40, i32 6, i32 8, i64 1, ptr @[[PT]], ptr null, ptr null, ptr null, i64 0, i64 0 }], align 8
; CHECK: @[[NAME:checksync.str[.0-9]*]] = private unnamed_addr constant [10 x i8] c"app::Node\00", align 1
; CHECK: @checksync.types = private constant [2 x %checksync.type_desc] [%checksync.type_desc { ptr @[[N4]], ptr @[[NAME]], i64 48, i64 8, i64 4, ptr @checksync.fields.4Node, i64 0, ptr null, i64 0, ptr null, ptr null }, %checksync.type_desc { ptr @[[EMPTY:checksync.str[.0-9]*]], ptr @{{.*}}, i64 1, i64 1, i64 0, ptr null, i64 0, ptr null, i64 0, ptr null, ptr null }], align 8
; CHECK: @[[HEAD:checksync.str[.0-9]*]] = private unnamed_addr constant [5 x i8] c"head\00", align 1
; CHECK: @checksync.roots = private constant [2 x %checksync.root_desc] [%checksync.root_desc { ptr @head, %checksync.field_desc { ptr @[[HEAD]], i64 0, i32 5, i32 8, i64 1, ptr @[[N4]], ptr null, ptr null, ptr null, i64 0, i64 0 } }, %checksync.root_desc { ptr @counts, %checksync.field_desc { ptr @{{.*}}, i64 0, i32 2, i32 4, i64 4, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 } }], align 8
; CHECK: @checksync.module = private constant %checksync.module_desc { i64 5, i64 2, ptr @checksync.types, i64 2, ptr @checksync.roots }, align 8
; CHECK: @llvm.global_ctors = appending global [2 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 65535, ptr @user_init, ptr null }, { i32, ptr, ptr } { i32 101, ptr @checksync.register, ptr null }]
; CHECK: @checksync.type.4Node = private alias %checksync.type_desc, ptr @checksync.types
; CHECK: @checksync.type.5Empty = private alias %checksync.type_desc, getelementptr inbounds ([2 x %checksync.type_desc], ptr @checksync.types, i64 0, i64 1)

; CHECK-LABEL: define internal void @checksync.register()
; CHECK-NEXT: entry:
; CHECK-NEXT: call void @checksync_rt_register_module(ptr @checksync.module)
; CHECK-NEXT: ret void

; The schema is consumed and the module marked as lowered.
; CHECK-NOT: !checksync.types
; CHECK-NOT: !checksync.roots
; CHECK: !checksync.lowered = !{![[L:[0-9]+]]}

; Fields are emitted sorted by offset whatever the metadata order. Type
; tuples written before ABI v2 (no inits/vptrs operands) are still read.
!checksync.types = !{!0, !10}
!checksync.roots = !{!20, !21}
!0 = !{!"4Node", !"app::Node", i64 48, i64 8, !1}
!1 = !{!2, !3, !5, !4}
!2 = !{!"key", i64 0, !"int", i64 8, i64 1, !""}
!3 = !{!"left", i64 8, !"ref", i64 8, i64 1, !"4Node"}
!4 = !{!"p", i64 40, !"record", i64 8, i64 1, !"5Point"}
!5 = !{!"w", i64 16, !"float", i64 4, i64 6, !""}
!10 = !{!"5Empty", !"Empty", i64 1, i64 1, !11}
!11 = !{}
!20 = !{ptr @head, !"head", !"ref", i64 8, i64 1, !"4Node"}
!21 = !{ptr @counts, !"counts", !"uint", i64 4, i64 4, !""}
