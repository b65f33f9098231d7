; Rule (c): a mem intrinsic writing to a derived address is preceded by
; checksync_rt_mark_range(dst, len). Rule (e): so is every other mem
; intrinsic unless its destination is a stack slot or a global that is not a
; root (whole-object copies and value-initialisations carry no annotation).
; Sources are never marked.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-barriers,verify -S %s | FileCheck %s
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync,verify -S %s | FileCheck %s

@.str = private unnamed_addr constant [21 x i8] c"checksync.field:1N:8\00", section "llvm.metadata"
@.file = private unnamed_addr constant [6 x i8] c"a.cpp\00", section "llvm.metadata"
@g = global [64 x i8] zeroinitializer
@root = global [64 x i8] zeroinitializer

; CHECK-LABEL: define void @field(ptr %n, ptr %s, i32 %len)
; CHECK-NEXT: %s.local = alloca [8 x i8]
; CHECK-NEXT: %f = getelementptr inbounds i8, ptr %n, i64 8
; CHECK-NEXT: call void @checksync_rt_mark_range(ptr %f, i64 16)
; CHECK-NEXT: call void @llvm.memcpy.p0.p0.i64(ptr %f, ptr %s, i64 16, i1 false)
; CHECK-NEXT: call void @opaque()
; CHECK-NEXT: call void @checksync_rt_mark_range(ptr %f, i64 8)
; CHECK-NEXT: call void @llvm.memset.p0.i64(ptr %f, i8 0, i64 8, i1 false)
; CHECK-NEXT: call void @opaque()
; CHECK-NEXT: [[L:%.*]] = zext i32 %len to i64
; CHECK-NEXT: call void @checksync_rt_mark_range(ptr %f, i64 [[L]])
; CHECK-NEXT: call void @llvm.memmove.p0.p0.i32(ptr %f, ptr %s, i32 %len, i1 false)
; CHECK-NEXT: call void @opaque()
; CHECK-NEXT: call void @llvm.memcpy.p0.p0.i64(ptr %s.local, ptr %f, i64 8, i1 false)
; CHECK-NEXT: ret void
define void @field(ptr %n, ptr %s, i32 %len) {
  %s.local = alloca [8 x i8]
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  call void @llvm.memcpy.p0.p0.i64(ptr %a, ptr %s, i64 16, i1 false)
  call void @opaque()
  call void @llvm.memset.p0.i64(ptr %a, i8 0, i64 8, i1 false)
  call void @opaque()
  call void @llvm.memmove.p0.p0.i32(ptr %a, ptr %s, i32 %len, i1 false)
  call void @opaque()
  call void @llvm.memcpy.p0.p0.i64(ptr %s.local, ptr %a, i64 8, i1 false)
  ret void
}

; CHECK-LABEL: define void @whole(ptr %d, ptr %s, i64 %i)
; CHECK-NEXT: %tmp = alloca [64 x i8]
; CHECK-NEXT: call void @checksync_rt_mark_range(ptr %d, i64 64)
; CHECK-NEXT: call void @llvm.memcpy.p0.p0.i64(ptr %d, ptr %s, i64 64, i1 false)
; CHECK-NEXT: %e = getelementptr inbounds i8, ptr %tmp, i64 %i
; CHECK-NEXT: call void @llvm.memset.p0.i64(ptr %e, i8 0, i64 8, i1 false)
; CHECK-NEXT: call void @llvm.memcpy.p0.p0.i64(ptr @g, ptr %s, i64 64, i1 false)
; CHECK-NEXT: call void @checksync_rt_mark_range(ptr @root, i64 64)
; CHECK-NEXT: call void @llvm.memcpy.p0.p0.i64(ptr @root, ptr %s, i64 64, i1 false)
; CHECK-NEXT: ret void
define void @whole(ptr %d, ptr %s, i64 %i) {
  %tmp = alloca [64 x i8]
  call void @llvm.memcpy.p0.p0.i64(ptr %d, ptr %s, i64 64, i1 false)
  %e = getelementptr inbounds i8, ptr %tmp, i64 %i
  call void @llvm.memset.p0.i64(ptr %e, i8 0, i64 8, i1 false)
  call void @llvm.memcpy.p0.p0.i64(ptr @g, ptr %s, i64 64, i1 false)
  call void @llvm.memcpy.p0.p0.i64(ptr @root, ptr %s, i64 64, i1 false)
  ret void
}

; CHECK: declare void @checksync_rt_mark_range(ptr nocapture readnone, i64) [[MR:#[0-9]+]]
; CHECK: attributes [[MR]] = { nounwind willreturn }

declare void @opaque()
declare ptr @llvm.ptr.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare void @llvm.memmove.p0.p0.i32(ptr, ptr, i32, i1)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)

!checksync.roots = !{!0}
!0 = !{ptr @root, !"root", !"bytes", i64 1, i64 64, !""}
