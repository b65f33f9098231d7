//===-- ReadOnlyArgs.cpp - which call arguments a callee cannot write -----===//
//
// Rule (d) of the barrier pass: a call receiving a pointer into a persistent
// object gets a barrier unless the parameter is read-only, by its attributes
// or by a const pointer/reference type in the callee's Itanium-mangled name.
//
//===----------------------------------------------------------------------===//
#include "ReadOnlyArgs.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/InstrTypes.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace llvm;

namespace {

//===-- Read-only parameters from Itanium mangled names -------------------===//

/// Splits "(A, B<C, D>, E)" at top-level commas.
std::vector<std::string> splitParams(StringRef S) {
  std::vector<std::string> Out;
  S = S.trim();
  if (!S.consume_front("(") || !S.consume_back(")"))
    return Out;
  int Depth = 0;
  size_t Start = 0;
  for (size_t I = 0; I < S.size(); ++I) {
    char C = S[I];
    if (C == '<' || C == '(' || C == '[')
      ++Depth;
    else if (C == '>' || C == ')' || C == ']')
      --Depth;
    else if (C == ',' && Depth == 0) {
      Out.push_back(S.slice(Start, I).trim().str());
      Start = I + 1;
    }
  }
  if (!S.trim().empty())
    Out.push_back(S.drop_front(Start).trim().str());
  return Out;
}

/// True if a parameter of this demangled type occupies exactly one IR
/// argument (pointers, references, scalars). Class types by value and
/// anything unrecognised return false.
bool isOneSlot(StringRef T) {
  if (T.ends_with("*") || T.ends_with("&"))
    return true;
  static const StringSet<> Scalars = {
      "bool", "char", "signed char", "unsigned char", "short",
      "unsigned short", "int", "unsigned int", "long", "unsigned long",
      "long long", "unsigned long long", "__int128", "unsigned __int128",
      "float", "double", "long double", "wchar_t", "char8_t", "char16_t",
      "char32_t", "std::nullptr_t", "decltype(nullptr)"};
  return Scalars.contains(T);
}

bool isConstPointerOrRef(StringRef T) {
  return T.ends_with("const&") || T.ends_with("const*") ||
         T.ends_with("const&&");
}

/// What the mangled name of \p CB's callee says about argument \p ArgNo.
bool mangledParamIsReadOnly(const CallBase *CB, unsigned ArgNo) {
  const Value *Callee = CB->getCalledOperand()->stripPointerCasts();
  if (!isa<GlobalValue>(Callee) || !Callee->hasName())
    return false;
  std::string Name = Callee->getName().str();
  if (!StringRef(Name).starts_with("_Z"))
    return false;
  ItaniumPartialDemangler D;
  if (D.partialDemangle(Name.c_str()) || !D.isFunction())
    return false;

  // IR argument positions, sret excluded.
  SmallVector<unsigned, 8> Slots;
  for (unsigned I = 0, E = CB->arg_size(); I != E; ++I)
    if (!CB->paramHasAttr(I, Attribute::StructRet))
      Slots.push_back(I);
  auto Pos = llvm::find(Slots, ArgNo);
  if (Pos == Slots.end())
    return false; // the sret slot is written
  unsigned Slot = Pos - Slots.begin();

  bool ConstMember = StringRef(Name).starts_with("_ZNK");
  if (ConstMember && Slot == 0)
    return true; // `this` of a const member function

  size_t N = 0;
  char *Buf = D.getFunctionParameters(nullptr, &N);
  if (!Buf)
    return false;
  std::vector<std::string> Params = splitParams(Buf);
  std::free(Buf);

  // Map slots to parameters while every parameter takes one IR argument.
  unsigned Simple = 0;
  while (Simple < Params.size() && isOneSlot(Params[Simple]))
    ++Simple;
  std::optional<unsigned> ThisSlots; // 1 if the IR has a `this` argument
  if (ConstMember || D.isCtorOrDtor())
    ThisSlots = 1;
  else if (Simple == Params.size()) {
    if (Slots.size() == Params.size() + 1)
      ThisSlots = 1;
    else if (Slots.size() == Params.size())
      ThisSlots = 0;
  }
  if (!ThisSlots || Slot < *ThisSlots)
    return false;
  unsigned P = Slot - *ThisSlots;
  if (P >= Simple)
    return false;
  return isConstPointerOrRef(Params[P]);
}

} // namespace

bool checksync::pass::argIsReadOnly(const CallBase *CB, unsigned ArgNo) {
  if (CB->paramHasAttr(ArgNo, Attribute::StructRet))
    return false;
  if (CB->isByValArgument(ArgNo))
    return true; // the callee gets a copy
  if (CB->onlyReadsMemory(ArgNo) || CB->onlyReadsMemory())
    return true; // readonly / readnone, or a read-only function
  return mangledParamIsReadOnly(CB, ArgNo);
}
