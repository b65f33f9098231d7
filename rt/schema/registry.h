// registry.h - the persistent types and roots this program registered.
//
// Each instrumented translation unit registers a checksync_module_desc from a
// global constructor; allocation may come even earlier (another TU's dynamic
// initialiser), so types are also added lazily from checksync_rt_new. The same
// type from several TUs is registered once (by key) and must be identical.
#ifndef CHECKSYNC_RT_REGISTRY_H
#define CHECKSYNC_RT_REGISTRY_H

#include "schema/types.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace checksync::detail {

// Registry index of a type descriptor, adding it if new. Thread-safe.
std::uint32_t registry_index_of(const checksync_type_desc *desc);
// sizeof(T) of a registered type (for heap statistics on free).
std::uint64_t registry_type_size(std::uint32_t index) noexcept;

// A consistent copy of all types (targets resolved) and roots. Throws Error
// when a type refers to a key nobody registered or roots conflict.
struct Snapshot {
  std::vector<Type> types;
  std::vector<Root> roots;
  std::unordered_map<std::string, std::uint32_t> by_key;
};
const Snapshot &registry_snapshot();
// The same, shared: it stays valid for a thread that encodes after a later
// registration (a dlopen'ed module) replaced the registry's snapshot.
std::shared_ptr<const Snapshot> registry_snapshot_shared();

// Main files of the translation units compiled without the plugin that
// include checksync.h (abi.h: checksync_rt_tu_without_plugin).
std::vector<std::string> registry_units_without_plugin();

// Converts one ABI descriptor (used by tests and the registry).
Type type_from_desc(const checksync_type_desc &desc);
Field field_from_desc(const checksync_field_desc &desc);

} // namespace checksync::detail

#endif
