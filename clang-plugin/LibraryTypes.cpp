//===- LibraryTypes.cpp - which standard library types have a codec ------===//
//
// A field of a standard library type is checkpointed by the codec of
// <checksync/codec.h> (checksync::codec::entry<T>). Before anything is
// instantiated, the type is checked here, structurally and recursively:
//   * strings of char, wchar_t, char8/16/32_t; vector, deque, list,
//     forward_list, array, map,
//     multimap, unordered_map, unordered_multimap, set, multiset,
//     unordered_set, unordered_multiset, queue, stack, priority_queue,
//     optional, pair, tuple, variant, monostate, bitset, complex,
//     unique_ptr<P> / unique_ptr<P[]> and shared_ptr<P> of a persistent P,
//     chrono::duration and chrono::time_point; iterators into list,
//     forward_list, map, multimap, set and multiset;
//   * with the default traits, allocator and deleter, and comparators,
//     hashers and key_equal without state (the codec rebuilds them by
//     default construction);
//   * whose elements are arithmetic, enums, pointers to persistent types,
//     persistent records by value or supported library types.
// Everything else gets an error that says what and why, with a hint.
//
//===----------------------------------------------------------------------===//
#include "SchemaBuilder.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclTemplate.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"

using namespace clang;

namespace checksync::plugin {

namespace {

/// The specialisation \p T names if it is `Name<...>` (e.g. "std::less").
const ClassTemplateSpecializationDecl *stdSpec(QualType T,
                                               llvm::StringRef Name) {
  const auto *Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T.getCanonicalType()->getAsCXXRecordDecl());
  return Spec && stdName(Spec) == Name ? Spec : nullptr;
}

QualType typeArg(const ClassTemplateSpecializationDecl *Spec, unsigned I) {
  const TemplateArgumentList &Args = Spec->getTemplateArgs();
  if (I >= Args.size() || Args[I].getKind() != TemplateArgument::Type)
    return QualType();
  return Args[I].getAsType().getCanonicalType();
}

enum class ResourceKind { None, Code, Thread, Sync, Atomic, Weak };

ResourceKind resourceKind(llvm::StringRef Name) {
  return llvm::StringSwitch<ResourceKind>(Name)
      .Cases("std::function", "std::move_only_function",
             "std::copyable_function", "std::packaged_task",
             ResourceKind::Code)
      .Cases("std::thread", "std::jthread", ResourceKind::Thread)
      .Cases("std::mutex", "std::recursive_mutex", "std::timed_mutex",
             "std::recursive_timed_mutex", "std::shared_mutex",
             "std::shared_timed_mutex", ResourceKind::Sync)
      .Cases("std::condition_variable", "std::condition_variable_any",
             "std::counting_semaphore", "std::latch", "std::barrier",
             "std::once_flag", ResourceKind::Sync)
      .Cases("std::unique_lock", "std::shared_lock", "std::lock_guard",
             "std::scoped_lock", "std::promise", "std::future",
             ResourceKind::Sync)
      .Cases("std::shared_future", "std::stop_source", "std::stop_token",
             ResourceKind::Sync)
      .Cases("std::atomic", "std::atomic_ref", "std::atomic_flag",
             ResourceKind::Atomic)
      .Case("std::weak_ptr", ResourceKind::Weak)
      .Default(ResourceKind::None);
}

bool isStringCharType(QualType C) {
  const auto *BT = C->getAs<BuiltinType>();
  return BT && isCharacterType(BT);
}

/// Arithmetic types the codec encodes (as numbers, or long double as bytes).
bool isCodecArithmetic(QualType C) {
  const auto *BT = C->getAs<BuiltinType>();
  if (!BT)
    return false;
  switch (BT->getKind()) {
  case BuiltinType::Float:
  case BuiltinType::Double:
  case BuiltinType::LongDouble:
    return true;
  case BuiltinType::Int128:
  case BuiltinType::UInt128:
    return false;
  default:
    return BT->isInteger();
  }
}

} // namespace

std::optional<SchemaBuilder::Problem>
SchemaBuilder::checkPointee(QualType P, const std::string &What,
                            std::vector<PendingType> &Pending) {
  P = P.getCanonicalType().getUnqualifiedType();
  const auto *RD = P->getAsCXXRecordDecl();
  if (RD && isPersistent(RD))
    return std::nullopt;
  if (RD && !RD->hasDefinition()) {
    Pending.push_back({P, /*ByValue=*/false});
    return std::nullopt;
  }
  std::string Type = N.librarySpelling(P);
  if (RD && stdName(RD).empty())
    return Problem{What + ": '" + Type + "' is not [[checksync::persistent]]",
                   "mark '" + Type + "' [[checksync::persistent]]; or, " + CacheOnlyHint.str()};
  return Problem{What + ": '" + Type + "' is not a [[checksync::persistent]] "
                        "type",
                 CacheOnlyHint.str()};
}

std::optional<SchemaBuilder::Problem>
SchemaBuilder::checkElement(QualType E, const std::string &Outer,
                            std::vector<PendingType> &Pending) {
  QualType C = E.getCanonicalType().getUnqualifiedType();
  std::string Spelled = N.librarySpelling(C);
  std::string What = "element type '" + Spelled + "' of '" + Outer + "'";
  if (isCodecArithmetic(C) || C->isEnumeralType())
    return std::nullopt;
  if (const auto *PT = C->getAs<PointerType>()) {
    QualType P = PT->getPointeeType();
    if (P->isFunctionType())
      return Problem{What + " is a function pointer, which cannot be "
                            "checkpointed",
                     CacheOnlyHint.str()};
    return checkPointee(P, What + " is a raw pointer to a non-persistent "
                                  "type",
                        Pending);
  }
  if (const auto *RD = C->getAsCXXRecordDecl()) {
    if (RD->isUnion())
      return Problem{What + " is a union, which the codec cannot encode",
                     CacheOnlyHint.str()};
    if (!stdName(RD).empty())
      return checkLibrary(C, Pending);
    if (isPersistent(RD))
      return std::nullopt;
    if (!RD->hasDefinition()) {
      Pending.push_back({C, /*ByValue=*/true});
      return std::nullopt;
    }
    return Problem{What + " is not [[checksync::persistent]], so its layout "
                          "is unknown",
                   "mark '" + Spelled + "' [[checksync::persistent]]; or, " +
                       CacheOnlyHint.str()};
  }
  return Problem{What + " is not supported by the codec",
                 CacheOnlyHint.str()};
}

namespace {

constexpr llvm::StringLiteral Transient = CacheOnlyHint;

/// Library types that are resources or code, never state: why, and what to
/// do instead.
std::optional<SchemaBuilder::Problem> resourceProblem(const std::string &Name) {
  switch (resourceKind(Name)) {
  case ResourceKind::Code:
    return SchemaBuilder::Problem{
        "'" + Name + "' holds code and captured state, which cannot be checkpointed",
        "mark the field [[checksync::transient]] and set it again after resume (it is "
        "empty then)"};
  case ResourceKind::Thread:
    return SchemaBuilder::Problem{
        "'" + Name + "' is a running thread, a resource that does not survive a resume",
        "suggest [[checksync::transient]]: mark the field and start the thread again "
        "after resume"};
  case ResourceKind::Sync:
    return SchemaBuilder::Problem{
        "'" + Name + "' is a synchronisation resource, which cannot be checkpointed",
        "suggest [[checksync::transient]]: resume value-initialises transient fields"};
  case ResourceKind::Atomic:
    return SchemaBuilder::Problem{
        "'" + Name + "' is a resource shared between threads, which the codec does not "
                     "encode",
        "suggest [[checksync::transient]], or hold a plain value"};
  case ResourceKind::Weak:
    return SchemaBuilder::Problem{
        "std::weak_ptr is not supported: the codec keeps only owning references",
        "hold a std::shared_ptr or a raw pointer to the persistent type; or, " +
            CacheOnlyHint.str()};
  case ResourceKind::None:
    break;
  }
  return std::nullopt;
}

/// Library types that are views, type-erased values or iterators: why the
/// codec cannot rebuild them, and what to hold instead.
std::optional<SchemaBuilder::Problem> viewProblem(const std::string &Name,
                                                  const std::string &Spelled) {
  if (Name == "std::basic_string_view")
    return SchemaBuilder::Problem{
        "a std::string_view (std::basic_string_view) refers to characters it does not own, "
        "which would dangle after resume",
        "hold a std::string"};
  if (Name == "std::span")
    return SchemaBuilder::Problem{
        "a std::span refers to elements it does not own, which would dangle after resume",
        "hold a std::vector or std::array, or a ref to the persistent object that owns "
        "them"};
  if (Name == "std::any")
    return SchemaBuilder::Problem{
        "std::any holds a value whose type is known only at run time, which the codec "
        "cannot name",
        "use a std::variant of the types it may hold"};
  llvm::StringRef N(Name);
  if (N.starts_with("std::_") && N.contains_insensitive("iterator"))
    return SchemaBuilder::Problem{
        "'" + Spelled +
            "' is an iterator into a container whose iterators do not "
            "survive a resume (only iterators into std::list, forward_list, map, "
            "multimap, set and multiset do: their elements are nodes)",
        "store the element's key or index, or a ref to a persistent object"};
  return std::nullopt;
}

} // namespace

/// The template arguments of one library specialisation, and the checks the
/// codec needs of them: defaults where it rebuilds a container, supported
/// elements.
class SchemaBuilder::LibraryArgs {
public:
  LibraryArgs(SchemaBuilder &B, QualType C, std::vector<PendingType> &Pending)
      : B(B), Pending(Pending),
        Spec(dyn_cast<ClassTemplateSpecializationDecl>(C->getAsCXXRecordDecl())),
        Spelled(B.N.librarySpelling(C)) {}

  QualType arg(unsigned I) const { return Spec ? typeArg(Spec, I) : QualType(); }
  const ClassTemplateSpecializationDecl *spec() const { return Spec; }
  const std::string &spelled() const { return Spelled; }

  /// Template argument \p I must be the default `Expected<ExpectedArgs...>`.
  std::optional<Problem> requireDefault(unsigned I, llvm::StringRef Expected,
                                        llvm::ArrayRef<QualType> ExpectedArgs,
                                        llvm::StringRef Role) const {
    QualType A = arg(I);
    const ClassTemplateSpecializationDecl *AS = A.isNull() ? nullptr : stdSpec(A, Expected);
    bool OK = AS != nullptr;
    for (unsigned J = 0; OK && J < ExpectedArgs.size(); ++J) {
      QualType Got = typeArg(AS, J);
      OK = !Got.isNull() && B.Ctx.hasSameType(Got, ExpectedArgs[J]);
    }
    if (OK)
      return std::nullopt;
    std::string ExpectedSpelling = Expected.str() + "<";
    for (unsigned J = 0; J < ExpectedArgs.size(); ++J)
      ExpectedSpelling += (J ? ", " : "") + B.N.librarySpelling(ExpectedArgs[J]);
    ExpectedSpelling += ">";
    return Problem{"template argument " + std::to_string(I + 1) + " of '" + Spelled +
                       "' is '" + (A.isNull() ? "?" : B.N.librarySpelling(A)) +
                       "', not the default " + ExpectedSpelling +
                       ": the codec cannot rebuild a custom " + Role.str(),
                   "use the default " + Role.str() + "; or, " + Transient.str()};
  }

  /// Template argument \p I (a comparator, hasher or key_equal) must carry
  /// no state: the codec rebuilds it by default construction, which is
  /// faithful only for an empty, default-constructible class (std::less<K>,
  /// std::greater<>, std::hash<K>, a user's empty function object).
  std::optional<Problem> requireStateless(unsigned I, llvm::StringRef Role) const {
    QualType A = arg(I);
    const CXXRecordDecl *RD = A.isNull() ? nullptr : A->getAsCXXRecordDecl();
    static const llvm::StringSet<> Standard = {
        "std::less",    "std::greater",     "std::less_equal", "std::greater_equal",
        "std::equal_to", "std::not_equal_to", "std::hash"};
    if (RD && Standard.contains(stdName(RD)))
      return std::nullopt;
    // A specialisation not instantiated yet: judge its template's pattern.
    const CXXRecordDecl *Def = RD ? RD->getDefinition() : nullptr;
    if (!Def)
      if (const auto *CTS = dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD))
        Def = CTS->getSpecializedTemplate()->getTemplatedDecl()->getDefinition();
    if (Def && Def->isEmpty() && !Def->isPolymorphic() && Def->hasDefaultConstructor())
      return std::nullopt;
    std::string Got = A.isNull() ? "?" : B.N.librarySpelling(A);
    return Problem{"template argument " + std::to_string(I + 1) + " of '" + Spelled +
                       "' is '" + Got + "', a " + Role.str() +
                       " with state (or not default-constructible): resume rebuilds the " +
                       Role.str() + " by default construction, which would lose that state",
                   "use a " + Role.str() +
                       " without data members (e.g. std::less<>, std::greater<K>, an "
                       "empty struct); or, " +
                       Transient.str()};
  }

  /// The allocator of a map: std::allocator<std::pair<const K, V>>.
  std::optional<Problem> requireMapAllocator(unsigned I) const {
    QualType K = arg(0), V = arg(1), A = arg(I);
    const ClassTemplateSpecializationDecl *AS =
        A.isNull() ? nullptr : stdSpec(A, "std::allocator");
    const ClassTemplateSpecializationDecl *PS =
        AS ? stdSpec(typeArg(AS, 0), "std::pair") : nullptr;
    if (PS && !typeArg(PS, 0).isNull() && !typeArg(PS, 1).isNull() &&
        B.Ctx.hasSameType(typeArg(PS, 0), K.withConst()) &&
        B.Ctx.hasSameType(typeArg(PS, 1), V))
      return std::nullopt;
    return Problem{"template argument " + std::to_string(I + 1) + " of '" + Spelled +
                       "' is '" + (A.isNull() ? "?" : B.N.librarySpelling(A)) +
                       "', not the default std::allocator: the codec cannot rebuild a "
                       "custom allocator",
                   "use the default allocator; or, " + Transient.str()};
  }

  /// Template argument \p I is an element the codec must encode.
  std::optional<Problem> element(unsigned I) const {
    QualType A = arg(I);
    if (A.isNull())
      return unsupported();
    return B.checkElement(A, Spelled, Pending);
  }

  /// Template argument \p I is a key (of a set or map), which must not hold
  /// iterators: a restore inserts each key while its iterators still hold
  /// old node ids (they are fixed once every object is decoded), and a
  /// comparator or hasher would read them.
  std::optional<Problem> keyWithoutIterators(unsigned I) const {
    QualType K = arg(I);
    std::string Canonical = K.isNull() ? "" : K.getCanonicalType().getAsString();
    for (llvm::StringRef It : {"std::_List_iterator", "std::_List_const_iterator",
                               "std::_Fwd_list_iterator", "std::_Fwd_list_const_iterator",
                               "std::_Rb_tree_iterator", "std::_Rb_tree_const_iterator"})
      if (llvm::StringRef(Canonical).contains(It))
        return Problem{"the key of '" + Spelled +
                           "' holds an iterator: a resume rebuilds iterators only after "
                           "every container is in place, so keys cannot hold them",
                       "key the container by the element's own key or id, and keep the "
                       "iterator as a mapped value"};
    return std::nullopt;
  }

  Problem unsupported() const {
    return Problem{"'" + Spelled + "' is not supported by the codec", Transient.str()};
  }

  SchemaBuilder &B;
  std::vector<PendingType> &Pending;

private:
  const ClassTemplateSpecializationDecl *Spec;
  std::string Spelled;
};

#define CHECK(E)                                                                           \
  if (std::optional<Problem> P_ = (E))                                                     \
  return P_

std::optional<SchemaBuilder::Problem>
SchemaBuilder::checkLibrary(QualType C, std::vector<PendingType> &Pending) {
  C = C.getCanonicalType().getUnqualifiedType();
  std::string Name = stdName(C->getAsCXXRecordDecl());
  CHECK(resourceProblem(Name));
  LibraryArgs A(*this, C, Pending);
  // Iterators into node-based containers (libstdc++'s types): their node's
  // id, rebuilt on resume (docs/iterators.md). The element is checked; the
  // container itself where it is declared.
  static const llvm::StringSet<> NodeIterators = {
      "std::_List_iterator",           "std::_List_const_iterator", "std::_Fwd_list_iterator",
      "std::_Fwd_list_const_iterator", "std::_Rb_tree_iterator",    "std::_Rb_tree_const_iterator"};
  if (NodeIterators.contains(Name))
    return A.element(0);
  CHECK(viewProblem(Name, N.librarySpelling(C)));
  if (Name == "std::basic_string") {
    QualType CharT = A.arg(0);
    if (CharT.isNull() || !isStringCharType(CharT))
      return Problem{"the codec supports strings of char, wchar_t, char8_t, "
                     "char16_t and char32_t only",
                     Transient.str()};
    CHECK(A.requireDefault(1, "std::char_traits", {CharT}, "character traits"));
    CHECK(A.requireDefault(2, "std::allocator", {CharT}, "allocator"));
    return std::nullopt;
  }
  if (std::optional<std::optional<Problem>> R = checkContainer(Name, A))
    return *R;
  if (Name == "std::unique_ptr" || Name == "std::shared_ptr")
    return checkOwner(Name, A);
  if (Name == "std::chrono::duration") {
    QualType Rep = A.arg(0);
    if (Rep.isNull() || !isCodecArithmetic(Rep))
      return Problem{"the representation of '" + A.spelled() + "' is not an arithmetic type",
                     Transient.str()};
    return std::nullopt;
  }
  if (Name == "std::chrono::time_point") {
    QualType Dur = A.arg(1);
    if (Dur.isNull() || !stdSpec(Dur, "std::chrono::duration"))
      return Problem{"the duration of '" + A.spelled() + "' is not a std::chrono::duration",
                     Transient.str()};
    return checkLibrary(Dur, Pending);
  }
  return Problem{"the codec does not know how to encode '" + Name + "'", Transient.str()};
}

/// Sequences, sets, maps (multi or not), adapters, pair, tuple, variant,
/// optional, bitset, complex: nothing if \p Name is none of them, else the
/// verdict.
std::optional<std::optional<SchemaBuilder::Problem>>
SchemaBuilder::checkContainer(const std::string &Name, const LibraryArgs &A) {
  auto alloc = [&](unsigned I) { return A.requireDefault(I, "std::allocator", {A.arg(0)}, "allocator"); };
  auto each_pack_element = [&]() -> std::optional<Problem> {
    const TemplateArgumentList &Args = A.spec()->getTemplateArgs();
    for (unsigned I = 0; I < Args.size(); ++I) {
      if (Args[I].getKind() != TemplateArgument::Pack)
        continue;
      for (const TemplateArgument &T : Args[I].pack_elements())
        CHECK(checkElement(T.getAsType(), A.spelled(), A.Pending));
    }
    return std::nullopt;
  };
  auto verdict = [&]() -> std::optional<Problem> {
    if (Name == "std::vector" || Name == "std::deque" || Name == "std::list" ||
        Name == "std::forward_list") {
      CHECK(alloc(1));
      return A.element(0);
    }
    if (Name == "std::array" || Name == "std::optional" || Name == "std::complex")
      return A.element(0);
    if (Name == "std::set" || Name == "std::multiset") {
      CHECK(A.keyWithoutIterators(0));
      CHECK(A.requireStateless(1, "comparator"));
      CHECK(alloc(2));
      return A.element(0);
    }
    if (Name == "std::unordered_set" || Name == "std::unordered_multiset") {
      CHECK(A.keyWithoutIterators(0));
      CHECK(A.requireStateless(1, "hasher"));
      CHECK(A.requireStateless(2, "key_equal"));
      CHECK(alloc(3));
      return A.element(0);
    }
    if (Name == "std::map" || Name == "std::multimap") {
      CHECK(A.keyWithoutIterators(0));
      CHECK(A.requireStateless(2, "comparator"));
      CHECK(A.requireMapAllocator(3));
      CHECK(A.element(0));
      return A.element(1);
    }
    if (Name == "std::unordered_map" || Name == "std::unordered_multimap") {
      CHECK(A.keyWithoutIterators(0));
      CHECK(A.requireStateless(2, "hasher"));
      CHECK(A.requireStateless(3, "key_equal"));
      CHECK(A.requireMapAllocator(4));
      CHECK(A.element(0));
      return A.element(1);
    }
    if (Name == "std::pair") {
      CHECK(A.element(0));
      return A.element(1);
    }
    if (Name == "std::queue" || Name == "std::stack")
      return A.element(1); // the underlying container, itself checked
    if (Name == "std::priority_queue") {
      CHECK(A.requireStateless(2, "comparator"));
      return A.element(1);
    }
    if (Name == "std::bitset" || Name == "std::monostate")
      return std::nullopt;
    return each_pack_element(); // std::tuple, std::variant
  };
  static const llvm::StringSet<> Containers = {
      "std::vector",        "std::deque",         "std::array",   "std::list",
      "std::forward_list",
      "std::optional",      "std::set",           "std::multiset",
      "std::unordered_set", "std::unordered_multiset", "std::map",
      "std::multimap",      "std::unordered_map", "std::unordered_multimap",
      "std::pair",          "std::tuple",         "std::variant",
      "std::monostate",     "std::queue",         "std::stack",
      "std::priority_queue", "std::bitset",       "std::complex"};
  if (!Containers.contains(Name) || (Name != "std::monostate" && !A.spec()))
    return std::nullopt;
  return verdict();
}

/// std::unique_ptr (default deleter) and std::shared_ptr of a persistent type.
std::optional<SchemaBuilder::Problem> SchemaBuilder::checkOwner(const std::string &Name,
                                                                const LibraryArgs &A) {
  QualType P = A.arg(0);
  if (P.isNull())
    return A.unsupported();
  if (Name == "std::unique_ptr" && !stdSpec(A.arg(1), "std::default_delete"))
    return Problem{"std::unique_ptr with the custom deleter '" + N.librarySpelling(A.arg(1)) +
                       "' cannot be rebuilt on resume",
                   "use std::default_delete; or, " + Transient.str()};
  QualType Pointee = P;
  if (Name == "std::unique_ptr")
    if (const ArrayType *AT = Ctx.getAsArrayType(P))
      Pointee = AT->getElementType();
  if (Pointee->isArrayType() || Pointee->isFunctionType() || !Pointee->isRecordType())
    return Problem{"'" + A.spelled() + "' does not own a [[checksync::persistent]] object",
                   Transient.str()};
  return checkPointee(Pointee, "'" + A.spelled() + "' owns a non-persistent object", A.Pending);
}

#undef CHECK

} // namespace checksync::plugin
