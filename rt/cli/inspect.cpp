// inspect.cpp - `checksync-rt inspect`: what a checkpoint holds, for humans
// (default) and tools (--json).
#include "commands.h"

#include "format.h"
#include "store.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <sstream>

namespace checksync::cli {
namespace {
using namespace checksync::detail;

std::string json_str(const std::string &s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += char(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += char(c);
    }
  }
  return o + "\"";
}

// Renders a validated value; refs as "#id" (text) or {"ref": id} (json).
void render(std::ostream &os, const msgpack::object &v, const Field &f,
            const std::vector<Type> &types, bool json, bool element = false) {
  if (!element && f.count != 1) {
    if (v.type == msgpack::type::BIN) {
      os << (json ? "\"" : "0x");
      static const char *hex = "0123456789abcdef";
      for (std::uint32_t i = 0; i < v.via.bin.size; ++i)
        os << hex[(unsigned char)v.via.bin.ptr[i] >> 4] << hex[v.via.bin.ptr[i] & 15];
      if (json)
        os << "\"";
      return;
    }
    os << "[";
    for (std::uint32_t i = 0; i < v.via.array.size; ++i) {
      if (i)
        os << ", ";
      render(os, v.via.array.ptr[i], f, types, json, true);
    }
    os << "]";
    return;
  }
  switch (v.type) {
  case msgpack::type::NIL:
    os << "null";
    return;
  case msgpack::type::POSITIVE_INTEGER:
    if (f.kind == CHECKSYNC_FIELD_REF)
      os << (json ? "{\"ref\": " : "#") << v.via.u64 << (json ? "}" : "");
    else
      os << v.via.u64;
    return;
  case msgpack::type::NEGATIVE_INTEGER:
    os << v.via.i64;
    return;
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64:
    os << v.via.f64;
    return;
  case msgpack::type::ARRAY: { // a record
    const Type &t = types[size_t(f.target)];
    os << "{";
    for (size_t i = 0; i < t.fields.size(); ++i) {
      os << (i ? ", " : "") << (json ? json_str(t.fields[i].name) : t.fields[i].name)
         << (json ? ": " : "=");
      render(os, v.via.array.ptr[i], t.fields[i], types, json);
    }
    os << "}";
    return;
  }
  default:
    os << "\"?\"";
  }
}

std::string time_text(std::uint64_t ms) {
  std::time_t t = std::time_t(ms / 1000);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct TypeCount {
  std::uint64_t objects = 0, bytes = 0;
};

} // namespace

int run_inspect(const InspectOptions &opts) {
  std::vector<StoredCheckpoint> stored;
  std::string file;
  std::unique_ptr<Image> img;
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(opts.path, ec))
      stored = list_checkpoints(opts.path);
    file = newest_checkpoint(opts.path);
    img = decode_image(read_whole_file(file), file);
  } catch (const Error &e) {
    std::fprintf(stderr, "checksync-rt inspect: %s\n", e.what());
    return 2;
  }
  std::vector<TypeCount> counts(img->types.size());
  std::uint64_t written_bytes = 0;
  for (auto &o : img->objects) {
    counts[o.type].objects++;
    counts[o.type].bytes += o.count * img->types[o.type].size;
    written_bytes += o.count * img->types[o.type].size;
  }
  const ImageInfo &in = img->info;
  std::uint64_t written = img->objects.size();
  std::uint64_t garbage = in.live_objects > written ? in.live_objects - written : 0;
  std::uint64_t garbage_bytes = in.live_bytes > written_bytes ? in.live_bytes - written_bytes : 0;

  std::ostringstream os;
  if (opts.json) {
    os << "{\n  \"file\": " << json_str(file) << ",\n  \"epochs\": [";
    for (size_t i = 0; i < stored.size(); ++i)
      os << (i ? ", " : "") << stored[i].epoch;
    if (stored.empty())
      os << in.epoch;
    os << "],\n  \"epoch\": " << in.epoch << ",\n  \"kind\": " << json_str(in.kind)
       << ",\n  \"created\": " << json_str(time_text(in.created_ms))
       << ",\n  \"program\": " << json_str(in.program) << ",\n  \"file_bytes\": "
       << img->file_bytes << ",\n  \"objects\": " << written << ",\n  \"object_bytes\": "
       << written_bytes << ",\n  \"live_objects\": " << in.live_objects
       << ",\n  \"live_bytes\": " << in.live_bytes << ",\n  \"unreachable_objects\": " << garbage
       << ",\n  \"unreachable_bytes\": " << garbage_bytes << ",\n  \"types\": [";
    for (size_t i = 0; i < img->types.size(); ++i) {
      const Type &t = img->types[i];
      os << (i ? "," : "") << "\n    {\"name\": " << json_str(t.name) << ", \"key\": "
         << json_str(t.key) << ", \"size\": " << t.size << ", \"objects\": "
         << counts[i].objects << ", \"bytes\": " << counts[i].bytes << "}";
    }
    os << "\n  ],\n  \"roots\": [";
    for (size_t i = 0; i < img->roots.size(); ++i) {
      const auto &r = img->roots[i];
      os << (i ? "," : "") << "\n    {\"name\": " << json_str(r.root.name) << ", \"value\": ";
      render(os, *r.value, r.root.field, img->types, true);
      os << "}";
    }
    os << "\n  ]\n}\n";
  } else {
    if (!stored.empty()) {
      os << "directory " << opts.path << ": " << stored.size() << " checkpoint(s), epochs";
      for (auto &s : stored)
        os << " " << s.epoch;
      os << "\n";
    }
    os << "checkpoint " << file << "\n"
       << "  epoch " << in.epoch << " (" << in.kind << "), " << time_text(in.created_ms)
       << ", program " << in.program << "\n"
       << "  " << img->file_bytes << " bytes on disk for " << written << " objects of "
       << written_bytes << " bytes\n"
       << "  heap at checkpoint: " << in.live_objects << " live objects (" << in.live_bytes
       << " bytes); unreachable, not written: " << garbage << " objects (" << garbage_bytes
       << " bytes)\n"
       << "types:\n";
    for (size_t i = 0; i < img->types.size(); ++i)
      os << "  " << img->types[i].name << " (size " << img->types[i].size << "): "
         << counts[i].objects << " objects, " << counts[i].bytes << " bytes\n";
    os << "roots:\n";
    for (auto &r : img->roots) {
      os << "  " << r.root.name << " = ";
      render(os, *r.value, r.root.field, img->types, false);
      os << "\n";
    }
  }
  std::fputs(os.str().c_str(), stdout);
  return 0;
}

} // namespace checksync::cli
