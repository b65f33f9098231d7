; checksync.h calls checksync_rt_tu_without_plugin from every translation unit;
; the lowering pass deletes the calls (their value becomes 0), so the runtime
; hears only from units the plugin did not compile. The automatic run of the
; standalone pass plugin (OnlyIfSchema) leaves a module without schema alone.
; RUN: %opt -load-pass-plugin=%passplugin -passes=checksync-lower -S %s | FileCheck %s
; RUN: %clangxx -std=c++20 -O0 -fplugin=%plugin -I%S/../../include -S -emit-llvm -o - %S/Inputs/probe.cpp | FileCheck %s --check-prefix=PLUGIN
; RUN: %clangxx -std=c++20 -O0 -Wno-unknown-attributes -I%S/../../include -S -emit-llvm -o - %S/Inputs/probe.cpp | FileCheck %s --check-prefix=BARE

; CHECK-LABEL: define internal void @init()
; CHECK-NEXT: store i32 0, ptr @probe
; CHECK-NOT: checksync_rt_tu_without_plugin
; PLUGIN-NOT: call {{.*}}checksync_rt_tu_without_plugin
; BARE: call {{.*}}@checksync_rt_tu_without_plugin(ptr {{.*}})

@probe = internal global i32 0
@file = private constant [6 x i8] c"a.cpp\00"

define internal void @init() {
  %r = call i32 @checksync_rt_tu_without_plugin(ptr @file)
  store i32 %r, ptr @probe
  ret void
}
declare i32 @checksync_rt_tu_without_plugin(ptr)
