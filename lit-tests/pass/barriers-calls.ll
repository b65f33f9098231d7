; Rule (d): a call or invoke that receives a derived pointer gets a barrier
; unless the parameter is provably read-only: readonly/readnone/byval, a
; non-writing intrinsic, `this` of a const member function (_ZNK), or a
; `T const&`, `T const*`, `T const&&` parameter of the mangled name (sret and
; `this` positions accounted for). Indirect and unknown callees get one.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-barriers,verify -S %s | FileCheck %s

@.str = private unnamed_addr constant [21 x i8] c"checksync.field:1N:8\00", section "llvm.metadata"
@.file = private unnamed_addr constant [6 x i8] c"a.cpp\00", section "llvm.metadata"

%struct.Big = type { [8 x i64] }

; Each call is separated by @opaque() so no barrier is removed as redundant.
; CHECK-LABEL: define void @readonly(ptr %n)
; CHECK-NOT: @checksync.barrier
; CHECK: ret void
define void @readonly(ptr %n) {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  call void @ro(ptr %a)                          ; readonly on the declaration
  call void @unknown(ptr readonly %a)            ; readonly on the call
  call void @takes_big(ptr byval(%struct.Big) %a)
  call void @llvm.prefetch.p0(ptr %a, i32 0, i32 3, i32 1)
  %i = call ptr @llvm.invariant.start.p0(i64 8, ptr %a)
  %g = call i64 @_ZNK1S3getEv(ptr %a)            ; S::get() const
  call void @_Z4readRKl(ptr %a)                  ; read(long const&)
  call void @_Z4readPKl(ptr %a)                  ; read(long const*)
  call void @_Z4readOKl(ptr %a)                  ; read(long const&&)
  call void @_Z3twoPlPKl(ptr %n, ptr %a)         ; two(long*, long const*), 2nd
  call void @_ZNK1S6substrEv(ptr sret(%struct.Big) %n, ptr %a) ; sret, this
  call void @_ZN1S4statERKl(ptr %a)              ; static S::stat(long const&)
  call void @_ZN1S4membERKl(ptr %n, ptr %a)      ; S::memb(long const&), param
  call void @_ZN1SC1ERKS_(ptr %n, ptr %a)        ; S::S(S const&), source
  ret void
}

; CHECK-LABEL: define void @writes(ptr %n, ptr %fp)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @_ZN1S3setEl(ptr %f, i64 1)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @_Z5writeRl(ptr %f)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @_Z3twoPlPKl(ptr %f, ptr %n)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @_Z4makev(ptr sret(%struct.Big) %f)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @_ZN1S4membERKl(ptr %f, ptr %n)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @_ZN1SC1ERKS_(ptr %f, ptr %n)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @_Z1f3BigPKl(ptr byval(%struct.Big) %n, ptr %f)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void %fp(ptr %f)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @unknown(ptr %f)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: call void @llvm.masked.store.v2i32.p0(<2 x i32> zeroinitializer, ptr %f, i32 4, <2 x i1> <i1 true, i1 true>)
; CHECK: call void @checksync.barrier(ptr %f)
; CHECK-NEXT: invoke void @_Z5writeRl(ptr %f)
define void @writes(ptr %n, ptr %fp) personality ptr @__gxx_personality_v0 {
  %f = getelementptr inbounds i8, ptr %n, i64 8
  %a = call ptr @llvm.ptr.annotation.p0.p0(ptr %f, ptr @.str, ptr @.file, i32 3, ptr null)
  call void @_ZN1S3setEl(ptr %a, i64 1)          ; S::set(long): `this`
  call void @opaque()
  call void @_Z5writeRl(ptr %a)                  ; write(long&)
  call void @opaque()
  call void @_Z3twoPlPKl(ptr %a, ptr %n)         ; two(long*, long const*), 1st
  call void @opaque()
  call void @_Z4makev(ptr sret(%struct.Big) %a)  ; sret is written
  call void @opaque()
  call void @_ZN1S4membERKl(ptr %a, ptr %n)      ; `this` of a non-const member
  call void @opaque()
  call void @_ZN1SC1ERKS_(ptr %a, ptr %n)        ; constructor's `this`
  call void @opaque()
  call void @_Z1f3BigPKl(ptr byval(%struct.Big) %n, ptr %a) ; after a class by value: unknown
  call void @opaque()
  call void %fp(ptr %a)
  call void @opaque()
  call void @unknown(ptr %a)
  call void @opaque()
  call void @llvm.masked.store.v2i32.p0(<2 x i32> zeroinitializer, ptr %a, i32 4, <2 x i1> <i1 true, i1 true>)
  call void @opaque()
  invoke void @_Z5writeRl(ptr %a) to label %ok unwind label %lp
ok:
  ret void
lp:
  %l = landingpad { ptr, i32 } cleanup
  resume { ptr, i32 } %l
}

declare void @opaque()
declare void @ro(ptr readonly)
declare void @unknown(ptr)
declare void @takes_big(ptr byval(%struct.Big))
declare i64 @_ZNK1S3getEv(ptr)
declare void @_Z4readRKl(ptr)
declare void @_Z4readPKl(ptr)
declare void @_Z4readOKl(ptr)
declare void @_Z3twoPlPKl(ptr, ptr)
declare void @_ZNK1S6substrEv(ptr sret(%struct.Big), ptr)
declare void @_ZN1S4statERKl(ptr)
declare void @_ZN1S4membERKl(ptr, ptr)
declare void @_ZN1SC1ERKS_(ptr, ptr)
declare void @_ZN1S3setEl(ptr, i64)
declare void @_Z5writeRl(ptr)
declare void @_Z4makev(ptr sret(%struct.Big))
declare void @_Z1f3BigPKl(ptr byval(%struct.Big), ptr)
declare i32 @__gxx_personality_v0(...)
declare ptr @llvm.ptr.annotation.p0.p0(ptr, ptr, ptr, i32, ptr)
declare void @llvm.prefetch.p0(ptr, i32, i32, i32)
declare ptr @llvm.invariant.start.p0(i64, ptr)
declare void @llvm.masked.store.v2i32.p0(<2 x i32>, ptr, i32, <2 x i1>)
