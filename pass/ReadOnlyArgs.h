//===-- ReadOnlyArgs.h - which call arguments a callee cannot write -*- C++ -*-===//
#ifndef CHECKSYNC_PASS_READONLYARGS_H
#define CHECKSYNC_PASS_READONLYARGS_H

#include "llvm/IR/InstrTypes.h"

namespace checksync::pass {

/// True if \p CB cannot write through its argument \p ArgNo: readonly,
/// readnone or byval, a read-only callee, or a `T const&`/`T const*`/
/// `T const&&` parameter in the callee's mangled name.
bool argIsReadOnly(const llvm::CallBase *CB, unsigned ArgNo);

} // namespace checksync::pass

#endif
