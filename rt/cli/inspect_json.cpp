// inspect_json.cpp - `checksync-rt inspect --json` (see inspect_view.h).
#include "inspect_view.h"

#include "format/codec_rt.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace checksync::cli {
namespace {
using namespace checksync::detail;
// Keys in the order written (file, epochs, ... as a person reads them).
using json = nlohmann::ordered_json;

json hex(const char *p, std::size_t n) { return json{{"hex", hex_text(p, n)}}; }

json string_json(const char *p, std::size_t n) {
  if (valid_utf8(p, n))
    return std::string(p, n);
  return hex(p, n);
}

json number_json(double d, bool is_float32) {
  if (std::isnan(d))
    return "NaN";
  if (std::isinf(d))
    return d > 0 ? "Infinity" : "-Infinity";
  if (is_float32) {
    // The shortest decimal that reads back as this float (0.1f -> 0.1, not
    // 0.100000001490116): JSON readers parse it as a double, then narrow.
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, float(d));
    *r.ptr = 0;
    return std::strtod(buf, nullptr);
  }
  return d; // nlohmann writes doubles shortest round-trip
}

json ref_json(std::uint64_t id, std::uint64_t off) {
  json r{{"ref", id}};
  if (off)
    r["offset"] = off;
  return r;
}

// A library value as its codec wrote it: no schema, refs are ext values.
json generic(const msgpack::object &v) {
  switch (v.type) {
  case msgpack::type::NIL: return nullptr;
  case msgpack::type::BOOLEAN: return v.via.boolean;
  case msgpack::type::POSITIVE_INTEGER: return v.via.u64;
  case msgpack::type::NEGATIVE_INTEGER: return v.via.i64;
  case msgpack::type::FLOAT32: return number_json(v.via.f64, true);
  case msgpack::type::FLOAT64: return number_json(v.via.f64, false);
  case msgpack::type::STR: return string_json(v.via.str.ptr, v.via.str.size);
  case msgpack::type::BIN: {
    std::string text;
    if (bytes_as_text(v.via.bin.ptr, v.via.bin.size, text))
      return text;
    return hex(v.via.bin.ptr, v.via.bin.size);
  }
  case msgpack::type::ARRAY: {
    json a = json::array();
    for (std::uint32_t i = 0; i < v.via.array.size; ++i)
      a.push_back(generic(v.via.array.ptr[i]));
    return a;
  }
  case msgpack::type::MAP: {
    json a = json::array();
    for (std::uint32_t i = 0; i < v.via.map.size; ++i)
      a.push_back(json::array({generic(v.via.map.ptr[i].key), generic(v.via.map.ptr[i].val)}));
    return a;
  }
  case msgpack::type::EXT: {
    std::uint64_t id, off;
    if (parse_codec_ref(v, id, off))
      return ref_json(id, off);
    if (parse_node(v, id)) // a container node (docs/iterators.md)
      return json{{"node", id}};
    return "ext";
  }
  default:
    return "?";
  }
}

// A validated value of a schema field.
json value(const msgpack::object &v, const Field &f, const std::vector<Type> &types,
           bool element = false) {
  if (f.kind == CHECKSYNC_FIELD_CODEC && (element || f.count == 1))
    return generic(v);
  if (!element && f.count != 1) {
    if (v.type == msgpack::type::BIN) // char[N], uint8_t[N]: text where it is text
      return generic(v);
    json a = json::array();
    for (std::uint32_t i = 0; i < v.via.array.size; ++i)
      a.push_back(value(v.via.array.ptr[i], f, types, true));
    return a;
  }
  if (f.kind == CHECKSYNC_FIELD_REF && v.type == msgpack::type::POSITIVE_INTEGER)
    return ref_json(v.via.u64, 0);
  if (f.kind == CHECKSYNC_FIELD_REF && v.type == msgpack::type::ARRAY)
    return ref_json(v.via.array.ptr[0].via.u64, v.via.array.ptr[1].via.u64);
  if (v.type == msgpack::type::ARRAY && f.kind == CHECKSYNC_FIELD_RECORD) {
    const Type &t = types[size_t(f.target)];
    json o = json::object();
    for (size_t i = 0; i < t.fields.size(); ++i)
      o[t.fields[i].name] = value(v.via.array.ptr[i], t.fields[i], types);
    return o;
  }
  return generic(v);
}

} // namespace

std::string inspect_json(const InspectView &v) {
  const Image &img = *v.img;
  const ImageInfo &in = img.info;
  json doc;
  doc["file"] = string_json(v.path.data(), v.path.size());
  json epochs = json::array();
  for (const auto &s : v.stored)
    epochs.push_back(s.epoch);
  if (v.stored.empty())
    epochs.push_back(in.epoch);
  doc["epochs"] = epochs;
  doc["epoch"] = in.epoch;
  doc["kind"] = in.kind;
  doc["created"] = time_text(in.created_ms);
  doc["program"] = string_json(in.program.data(), in.program.size());
  doc["schema"] = schema_fingerprint(img.types);
  doc["file_bytes"] = img.file_bytes;
  doc["objects"] = v.written;
  doc["object_bytes"] = v.written_bytes;
  doc["live_objects"] = in.live_objects;
  doc["live_bytes"] = in.live_bytes;
  doc["unreachable_objects"] = v.garbage;
  doc["unreachable_bytes"] = v.garbage_bytes;
  doc["note"] = string_json(v.note.data(), v.note.size());
  json files = json::array();
  for (const Image *f : v.files)
    files.push_back({{"epoch", f->info.epoch},
                     {"kind", f->info.kind},
                     {"bytes", f->file_bytes},
                     {"compressed", f->compressed},
                     {"objects", f->info.stats.objects},
                     {"payload_bytes", f->info.stats.payload_bytes},
                     {"freed", f->freed.size()},
                     {"pause_us", f->info.stats.pause_us},
                     {"pages_touched", f->info.stats.pages_touched},
                     {"dirty_pages", f->info.stats.dirty_pages},
                     {"schema", schema_fingerprint(f->types)}});
  doc["checkpoints"] = files;
  json types = json::array();
  for (size_t i = 0; i < img.types.size(); ++i)
    types.push_back({{"name", img.types[i].name},
                     {"key", img.types[i].key},
                     {"size", img.types[i].size},
                     {"objects", v.counts[i].objects},
                     {"bytes", v.counts[i].bytes}});
  doc["types"] = types;
  json roots = json::array();
  for (const auto &r : img.roots)
    roots.push_back({{"name", r.root.name}, {"value", value(*r.value, r.root.field, img.types)}});
  doc["roots"] = roots;
  if (v.objects) {
    json list = json::array();
    for (const DecodedObject &o : img.objects) {
      const Type &t = img.types[o.type];
      json elements = json::array();
      for (std::uint64_t e = 0; e < o.count; ++e) {
        json fields = json::object();
        for (size_t k = 0; k < t.fields.size(); ++k)
          fields[t.fields[k].name] = value(o.values[e * t.fields.size() + k], t.fields[k], img.types);
        elements.push_back(std::move(fields));
      }
      list.push_back({{"id", o.id}, {"type", t.name}, {"count", o.count}, {"elements", elements}});
    }
    doc["object_list"] = list;
  }
  // Every string was checked or built as UTF-8; replace, never throw, if a
  // forged schema name is not.
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace checksync::cli
