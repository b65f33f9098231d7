// inspect.cpp - `checksync-rt inspect`: what a checkpoint holds, for humans
// (default) and tools (--json).
#include "commands.h"

#include "format/codec_rt.h"
#include "store/chain.h"
#include "format/format.h"
#include "store/store.h"

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

std::string quote(const char *p, std::size_t n, bool json) {
  if (json)
    return json_str(std::string(p, n));
  std::string o = "\"";
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      o += '\\';
      o += char(c);
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      o += b;
    } else {
      o += char(c);
    }
  }
  return o + "\"";
}

void render_ref(std::ostream &os, std::uint64_t id, std::uint64_t off, bool json) {
  if (json)
    os << "{\"ref\": " << id << (off ? ", \"offset\": " + std::to_string(off) : "") << "}";
  else
    os << "#" << id << (off ? "+" + std::to_string(off) : "");
}

// A library value as its codec wrote it: no schema, refs are ext values.
void render_generic(std::ostream &os, const msgpack::object &v, bool json) {
  switch (v.type) {
  case msgpack::type::NIL: os << "null"; return;
  case msgpack::type::BOOLEAN: os << (v.via.boolean ? "true" : "false"); return;
  case msgpack::type::POSITIVE_INTEGER: os << v.via.u64; return;
  case msgpack::type::NEGATIVE_INTEGER: os << v.via.i64; return;
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64: os << v.via.f64; return;
  case msgpack::type::STR: os << quote(v.via.str.ptr, v.via.str.size, json); return;
  case msgpack::type::BIN: {
    static const char *hex = "0123456789abcdef";
    os << (json ? "\"" : "0x");
    for (std::uint32_t i = 0; i < v.via.bin.size; ++i)
      os << hex[(unsigned char)v.via.bin.ptr[i] >> 4] << hex[v.via.bin.ptr[i] & 15];
    if (json)
      os << "\"";
    return;
  }
  case msgpack::type::ARRAY:
    os << "[";
    for (std::uint32_t i = 0; i < v.via.array.size; ++i) {
      os << (i ? ", " : "");
      render_generic(os, v.via.array.ptr[i], json);
    }
    os << "]";
    return;
  case msgpack::type::MAP:
    os << (json ? "[" : "{");
    for (std::uint32_t i = 0; i < v.via.map.size; ++i) {
      os << (i ? ", " : "") << (json ? "[" : "");
      render_generic(os, v.via.map.ptr[i].key, json);
      os << (json ? ", " : ": ");
      render_generic(os, v.via.map.ptr[i].val, json);
      os << (json ? "]" : "");
    }
    os << (json ? "]" : "}");
    return;
  case msgpack::type::EXT: {
    std::uint64_t id, off;
    if (parse_codec_ref(v, id, off))
      render_ref(os, id, off, json);
    else
      os << "\"ext\"";
    return;
  }
  default:
    os << "\"?\"";
  }
}

// Renders a validated value of a schema field; refs as "#id" (text) or
// {"ref": id} (json).
void render(std::ostream &os, const msgpack::object &v, const Field &f,
            const std::vector<Type> &types, bool json, bool element = false) {
  if (f.kind == CHECKSYNC_FIELD_CODEC && (element || f.count == 1))
    return render_generic(os, v, json);
  if (!element && f.count != 1) {
    if (v.type == msgpack::type::BIN)
      return render_generic(os, v, json);
    os << "[";
    for (std::uint32_t i = 0; i < v.via.array.size; ++i) {
      if (i)
        os << ", ";
      render(os, v.via.array.ptr[i], f, types, json, true);
    }
    os << "]";
    return;
  }
  if (f.kind == CHECKSYNC_FIELD_REF && v.type == msgpack::type::POSITIVE_INTEGER)
    return render_ref(os, v.via.u64, 0, json);
  if (f.kind == CHECKSYNC_FIELD_REF && v.type == msgpack::type::ARRAY)
    return render_ref(os, v.via.array.ptr[0].via.u64, v.via.array.ptr[1].via.u64, json);
  if (v.type == msgpack::type::ARRAY && f.kind == CHECKSYNC_FIELD_RECORD) {
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
  render_generic(os, v, json);
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
  std::string file = opts.path, note;
  std::unique_ptr<Image> img;
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(opts.path, ec)) {
      stored = list_checkpoints(opts.path);
      img = load_chain(opts.path, &note);
    } else {
      img = parse_image(read_whole_file(opts.path), opts.path);
      if (img->info.kind == "full")
        validate_image(*img, opts.path);
    }
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

  std::vector<const Image *> files; // what was read: the base and its deltas
  if (img->parts.empty())
    files.push_back(img.get());
  for (auto &p : img->parts)
    files.push_back(p.get());

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
       << ",\n  \"unreachable_bytes\": " << garbage_bytes << ",\n  \"note\": " << json_str(note)
       << ",\n  \"checkpoints\": [";
    for (size_t i = 0; i < files.size(); ++i) {
      const ImageInfo &f = files[i]->info;
      os << (i ? "," : "") << "\n    {\"epoch\": " << f.epoch << ", \"kind\": " << json_str(f.kind)
         << ", \"bytes\": " << files[i]->file_bytes
         << ", \"compressed\": " << (files[i]->compressed ? "true" : "false")
         << ", \"objects\": " << f.stats.objects
         << ", \"payload_bytes\": " << f.stats.payload_bytes << ", \"freed\": "
         << files[i]->freed.size() << ", \"pause_us\": " << f.stats.pause_us
         << ", \"pages_touched\": " << f.stats.pages_touched << ", \"dirty_pages\": "
         << f.stats.dirty_pages << "}";
    }
    os << "\n  ],\n  \"types\": [";
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
    os << "\n  ]";
    if (opts.objects) {
      os << ",\n  \"object_list\": [";
      for (size_t i = 0; i < img->objects.size(); ++i) {
        const DecodedObject &o = img->objects[i];
        const Type &t = img->types[o.type];
        os << (i ? "," : "") << "\n    {\"id\": " << o.id << ", \"type\": " << json_str(t.name)
           << ", \"count\": " << o.count << ", \"elements\": [";
        for (std::uint64_t e = 0; e < o.count; ++e) {
          os << (e ? ", " : "") << "{";
          for (size_t k = 0; k < t.fields.size(); ++k) {
            os << (k ? ", " : "") << json_str(t.fields[k].name) << ": ";
            render(os, o.values[e * t.fields.size() + k], t.fields[k], img->types, true);
          }
          os << "}";
        }
        os << "]}";
      }
      os << "\n  ]";
    }
    os << "\n}\n";
  } else {
    if (!stored.empty()) {
      os << "directory " << opts.path << ": " << stored.size() << " checkpoint(s), epochs";
      for (auto &s : stored)
        os << " " << s.epoch;
      os << "\n";
    }
    os << "checkpoints read:\n";
    for (const Image *f : files)
      os << "  epoch " << f->info.epoch << " " << f->info.kind << ": " << f->file_bytes
         << (f->compressed ? " bytes (zstd), " : " bytes, ") << f->info.stats.objects
         << " objects (" << f->info.stats.payload_bytes
         << " payload bytes), " << f->freed.size() << " freed, pause " << f->info.stats.pause_us
         << " us, " << f->info.stats.pages_touched << " pages touched, "
         << f->info.stats.dirty_pages << " dirty pages\n";
    if (!note.empty())
      os << "note: " << note << "\n";
    os << "state at epoch " << in.epoch << " (" << file << ")\n"
       << "  " << time_text(in.created_ms) << ", program " << in.program << "\n"
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
    if (opts.objects) {
      os << "objects:\n";
      for (const DecodedObject &o : img->objects) {
        const Type &t = img->types[o.type];
        os << "  #" << o.id << " " << t.name;
        if (o.count != 1)
          os << "[" << o.count << "]";
        os << "\n";
        for (std::uint64_t e = 0; e < o.count; ++e)
          for (size_t k = 0; k < t.fields.size(); ++k) {
            os << "    ";
            if (o.count != 1)
              os << "[" << e << "].";
            os << t.fields[k].name << " = ";
            render(os, o.values[e * t.fields.size() + k], t.fields[k], img->types, false);
            os << "\n";
          }
      }
    }
  }
  std::fputs(os.str().c_str(), stdout);
  return 0;
}

} // namespace checksync::cli
