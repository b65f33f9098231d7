// checksync/abi.h - the extern "C" surface between instrumented code and the
// runtime. The LLVM pass emits these structures as constants and calls these
// functions; the layout is fixed by CHECKSYNC_ABI_VERSION (docs/abi.md).
#ifndef CHECKSYNC_ABI_H
#define CHECKSYNC_ABI_H

#include <stddef.h>
#include <stdint.h>

/* 3: the write barrier checks CHECKSYNC_CARD_IN_FLIGHT (copy-on-write).
   4: checksync_field_desc.renamed_from.
   5: field defaults and flags, checksync_type_desc.renamed_from. */
#define CHECKSYNC_ABI_VERSION 5

#ifdef __cplusplus
extern "C" {
#endif

/* What a field (or a root) holds. Values are part of the ABI. */
enum checksync_field_kind {
  CHECKSYNC_FIELD_INT = 1,    /* signed integer or enum, elem_size 1/2/4/8 */
  CHECKSYNC_FIELD_UINT = 2,   /* unsigned integer, bool, char, elem_size 1/2/4/8 */
  CHECKSYNC_FIELD_FLOAT = 3,  /* IEEE binary32/64, elem_size 4/8 */
  CHECKSYNC_FIELD_BYTES = 4,  /* opaque trivially copyable bytes (long double) */
  CHECKSYNC_FIELD_REF = 5,    /* pointer to a persistent type `target` */
  CHECKSYNC_FIELD_RECORD = 6, /* persistent record `target` by value (also a base class) */
  CHECKSYNC_FIELD_CODEC = 7   /* library type (std::string, containers, smart pointers...)
                                 encoded by `codec`; `target` is the type's spelling */
};

/* checksync_field_desc.flags (since ABI 5):
   ALLOW_LOSSY      [[checksync::allow_lossy]]: a resume may narrow the field (clamped);
   HAS_INITIALISER  the field has a default member initialiser;
   DEFAULT_CONSTANT ... and default_value holds its value (possibly empty);
   BOOL             a `bool` (the kind says only UINT, 1 byte): a lossy resume
                    stores value != 0. */
#define CHECKSYNC_FIELD_ALLOW_LOSSY 1u
#define CHECKSYNC_FIELD_HAS_INITIALISER 2u
#define CHECKSYNC_FIELD_DEFAULT_CONSTANT 4u
#define CHECKSYNC_FIELD_BOOL 8u

/* One field of a persistent type; arrays are flattened into `count`.
   Layout (80 bytes): { ptr, i64, i32, i32, i64, ptr, ptr, ptr, ptr, i64, i64 }. */
typedef struct checksync_field_desc {
  const char *name;
  uint64_t offset;    /* byte offset inside the record (0 for roots) */
  uint32_t kind;      /* enum checksync_field_kind */
  uint32_t elem_size; /* bytes of one element */
  uint64_t count;     /* 1 for a scalar, N for T[N] (product of extents) */
  const char *target; /* type key for REF / RECORD, type spelling for CODEC, else NULL */
  const void *codec;  /* const checksync::codec::Entry * for CODEC fields and
                         for `inits`; NULL otherwise */
  const char *renamed_from; /* [[checksync::renamed_from("old")]]: former names
                               separated by ',', or NULL (since ABI 4) */
  /* The default member initialiser's value, for a field a resume adds (since
     ABI 5): the field's bytes (count * elem_size) for INT/UINT/FLOAT, the
     characters for a std::string CODEC field; see CHECKSYNC_FIELD_DEFAULT_CONSTANT. */
  const char *default_value;
  uint64_t default_size;
  uint64_t flags; /* CHECKSYNC_FIELD_* flags */
} checksync_field_desc;

/* A vtable pointer to store at `offset` of a restored object.
   Layout (16 bytes): { i64, ptr }. */
typedef struct checksync_vptr_desc {
  uint64_t offset;
  const void *value; /* address point inside the class's vtable group */
} checksync_vptr_desc;

/* One persistent type. `key` is typeid(T).name() (Itanium RTTI name without
   the _ZTS prefix); it identifies the type across translation units.
   Layout (88 bytes): { ptr, ptr, i64, i64, i64, ptr, i64, ptr, i64, ptr, ptr }. */
typedef struct checksync_type_desc {
  const char *key;
  const char *name; /* qualified C++ name, for messages and `inspect` */
  uint64_t size;
  uint64_t align;
  uint64_t num_fields;
  const checksync_field_desc *fields; /* sorted by offset; transient fields omitted;
                                         non-virtual persistent bases are RECORD
                                         fields named after the base */
  uint64_t num_inits;
  const checksync_field_desc *inits; /* transient fields whose type needs construction:
                                        codec->construct at offset, count times */
  uint64_t num_vptrs;
  const checksync_vptr_desc *vptrs; /* every vtable pointer of the complete object,
                                       including base subobjects, NOT members */
  const char *renamed_from;         /* [[checksync::renamed_from("old::Name")]] on the type:
                                       former qualified names, ',' separated, or NULL
                                       (since ABI 5) */
} checksync_type_desc;

/* One [[checksync::root]] variable. The field's name is the qualified variable
   name and its offset is 0. Layout (88 bytes): { ptr, field_desc }. */
typedef struct checksync_root_desc {
  void *address;
  checksync_field_desc field;
} checksync_root_desc;

/* Everything one translation unit contributes. Registered by a global
   constructor the pass emits. Layout (40 bytes): { i64, i64, ptr, i64, ptr }. */
typedef struct checksync_module_desc {
  uint64_t abi_version;
  uint64_t num_types;
  const checksync_type_desc *types;
  uint64_t num_roots;
  const checksync_root_desc *roots;
} checksync_module_desc;

/* ---- Write barrier (card marking) ----------------------------------------
   Instrumented code marks the card (64 bytes) and the page (4 KiB) of every
   address it may write inside the persistent arena, before the write:
     d = (uintptr_t)p - checksync_rt_cards.lo;
     if (d < checksync_rt_cards.span) {
       uint8_t *card = &checksync_rt_cards.cards[d >> CHECKSYNC_CARD_SHIFT];
       if (checksync_rt_cards.in_flight && (*card & CHECKSYNC_CARD_IN_FLIGHT))
         checksync_rt_write_slow(p);
       else
         *card = CHECKSYNC_CARD_DIRTY;
       checksync_rt_cards.pages[d >> CHECKSYNC_PAGE_SHIFT] = 1;
     }
   span is 0 until the arena exists, so nothing is marked before. The runtime
   maps dirty cards to the objects that overlap them at checkpoint time.
   While a delta is encoded by the runtime's pipeline thread, in_flight is
   non-zero and CHECKSYNC_CARD_IN_FLIGHT flags its objects' cards: the slow
   path copies an object before its first write (rt/heap/cow.h) and marks
   the card dirty. Otherwise the barrier reads no card (stores only). */
/* The annotation the Clang plugin attaches to every checkpointed field of a
   persistent record ("checksync.field:<type key>:<offset>"); the barrier
   pass turns clang's llvm.ptr.annotation calls for it into barriers. */
#define CHECKSYNC_FIELD_ANNOTATION_PREFIX "checksync.field"

#define CHECKSYNC_CARD_SHIFT 6
#define CHECKSYNC_PAGE_SHIFT 12
#define CHECKSYNC_CARD_DIRTY 1
#define CHECKSYNC_CARD_IN_FLIGHT 2
typedef struct checksync_card_table {
  uint64_t lo;
  uint64_t span;
  uint8_t *cards;
  uint8_t *pages;
  uint64_t in_flight;
} checksync_card_table; /* Layout (40 bytes): { i64, i64, ptr, ptr, i64 } */
extern checksync_card_table checksync_rt_cards;

/* Marks every card of [p, p + n) that lies in the arena (memcpy, memset,
   memmove destinations; checksync::touch). Any p is allowed. */
void checksync_rt_mark_range(const void *p, size_t n);
/* The barrier's slow path: p's card is flagged CHECKSYNC_CARD_IN_FLIGHT.
   Called with the preserve_most convention (the barrier pass emits it). */
#if defined(__clang__) && defined(__x86_64__)
__attribute__((preserve_most))
#endif
void checksync_rt_write_slow(const void *p);

/* Called from the initialiser checksync.h puts in every translation unit,
   with the unit's main file name. The plugin's pass deletes the call, so the
   runtime hears only from units compiled without the plugin (init() then
   refuses to run: their allocations and writes would be invisible). */
int checksync_rt_tu_without_plugin(const char *file);

/* Called from global constructors, before main. Idempotent per type key. */
void checksync_rt_register_module(const checksync_module_desc *module);

/* Allocates `size` bytes (sizeof(T) or n * sizeof(T) for new T[n]) of
   persistent type `type` in the runtime's heap. Never returns NULL: aborts
   with a message when out of memory. Freed through the global operator
   delete, which the runtime replaces. */
void *checksync_rt_new(const checksync_type_desc *type, size_t size);

#ifdef __cplusplus
}
#endif

#endif
