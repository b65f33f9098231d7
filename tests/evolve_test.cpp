// plan_schema (rt/runtime/evolve.h) on hand-made schemas: renamed types
// reach refs and library spellings by whole names only; lossy conversions
// need an opt-in; ambiguity is refused.
#include "runtime/evolve.h"

#include <gtest/gtest.h>

using namespace checksync::detail;

namespace {

Field field(std::string name, std::uint32_t kind, std::uint32_t size, std::string target = "") {
  Field f;
  f.name = std::move(name);
  f.kind = kind;
  f.elem_size = size;
  f.target_key = std::move(target);
  return f;
}

Type type(std::string key, std::string name, std::vector<Field> fields) {
  Type t;
  t.key = std::move(key);
  t.name = std::move(name);
  t.fields = std::move(fields);
  return t;
}

std::string refusal(const Image &img, const std::vector<Type> &types, PlanOptions opts = {}) {
  try {
    plan_schema(img, types, {}, opts);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(Evolve, RenamedTypeTranslatesRefsAndWholeNamesInSpellings) {
  Image img;
  img.types.push_back(
      type("N4shop4ItemE", "shop::Item",
           {field("next", CHECKSYNC_FIELD_REF, 8, "N4shop4ItemE"),
            field("by_id", CHECKSYNC_FIELD_CODEC, 48, "std::map<int, shop::Item *>"),
            field("other", CHECKSYNC_FIELD_CODEC, 24, "std::vector<shop::ItemX *>")}));
  std::vector<Type> program{
      type("N4shop7ArticleE", "shop::Article",
           {field("next", CHECKSYNC_FIELD_REF, 8, "N4shop7ArticleE"),
            field("by_id", CHECKSYNC_FIELD_CODEC, 48, "std::map<int, shop::Article *>"),
            field("other", CHECKSYNC_FIELD_CODEC, 24, "std::vector<shop::ItemX *>")})};
  // Without the attribute the old type is simply gone (no objects: dropped).
  SchemaPlan without = plan_schema(img, program, {});
  EXPECT_EQ(without.type_map[0], -1);

  program[0].renamed_from = {"shop::Item"};
  SchemaPlan plan = plan_schema(img, program, {});
  ASSERT_EQ(plan.type_map[0], 0);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0], "type shop::Item -> shop::Article: renamed type");

  // shop::ItemX is another type: renaming shop::Item does not touch it.
  program[0].fields[2].target_key = "std::vector<shop::ArticleX *>";
  EXPECT_NE(refusal(img, program).find("field 'other'"), std::string::npos);

  // Nor can two program types both claim one checkpoint type.
  program.push_back(type("N4shop5OfferE", "shop::Offer", {}));
  program[1].renamed_from = {"shop::Item"};
  EXPECT_NE(refusal(img, program)
                .find("types shop::Article and shop::Offer both say they were "
                      "renamed from the checkpoint's type shop::Item"),
            std::string::npos);
  program.pop_back();

  // Two checkpoint types cannot both become one program type.
  program[0].fields[2].target_key = "std::vector<shop::ItemX *>";
  img.types.push_back(type("5Thing", "Thing", {}));
  program[0].renamed_from = {"shop::Item", "Thing"};
  EXPECT_NE(refusal(img, program).find("renamed from two types of the checkpoint"),
            std::string::npos);
}

TEST(Evolve, NarrowingNeedsAnOptIn) {
  Image img;
  img.types.push_back(
      type("5Order", "Order",
           {field("qty", CHECKSYNC_FIELD_INT, 8), field("rate", CHECKSYNC_FIELD_FLOAT, 8)}));
  std::vector<Type> program{
      type("5Order", "Order",
           {field("qty", CHECKSYNC_FIELD_INT, 4), field("rate", CHECKSYNC_FIELD_INT, 8)})};
  EXPECT_NE(refusal(img, program)
                .find("field 'qty' is int64 at offset 0 in the checkpoint but "
                      "int32 at offset 0 in the program (narrowing"),
            std::string::npos);
  // The attribute on one field opts in that field only.
  program[0].fields[0].flags = CHECKSYNC_FIELD_ALLOW_LOSSY;
  EXPECT_NE(refusal(img, program).find("field 'rate'"), std::string::npos);
  PlanOptions lossy;
  lossy.allow_lossy = true;
  SchemaPlan plan = plan_schema(img, program, {}, lossy);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0], "type Order: converted 'qty' int64 -> int32 (lossy), 'rate' "
                             "float64 -> int64 (lossy)");
  // Never from a library value or an array, allowed or not.
  program[0].fields[1] = field("rate", CHECKSYNC_FIELD_CODEC, 32, "std::string");
  EXPECT_NE(refusal(img, program, lossy).find("resume converts only scalars that widen"),
            std::string::npos);
}

TEST(Evolve, AddedFieldsSayHowTheyStart) {
  Image img;
  img.types.push_back(type("1A", "A", {field("x", CHECKSYNC_FIELD_INT, 4)}));
  std::vector<Type> program{
      type("1A", "A",
           {field("x", CHECKSYNC_FIELD_INT, 4), field("p", CHECKSYNC_FIELD_INT, 4),
            field("q", CHECKSYNC_FIELD_INT, 4), field("r", CHECKSYNC_FIELD_INT, 4)})};
  program[0].fields[1].flags = CHECKSYNC_FIELD_HAS_INITIALISER | CHECKSYNC_FIELD_DEFAULT_CONSTANT;
  program[0].fields[2].flags = CHECKSYNC_FIELD_HAS_INITIALISER;
  SchemaPlan plan = plan_schema(img, program, {});
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0], "type A: added 'p' (its initialiser), 'q' (value-initialised: its "
                             "initialiser is not a constant), 'r' (value-initialised)");
}
