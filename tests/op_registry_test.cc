// The op-spec notation and the built-in registry.
#include <stdexcept>

#include "graph/op_registry.h"
#include "support.h"

namespace tffreeze::graph {
namespace {

TEST(OpRegistry, ParsesTensorFlowNotation) {
  OpRegistry r;
  r.add("Foo[stateful](x: T, ys: N * T, r: Ref(float)) -> (out: T, parts: num * int32, many: L) | T: {float, double}; "
        "N: int >= 1; num: int = 2; L: list(type) >= 0 = []; padding: {'SAME', 'VALID'} = 'SAME'; k: list(int) = [1, 2]");
  const tf::OpDef* def = r.find("Foo");
  ASSERT_NE(def, nullptr);
  EXPECT_TRUE(def->is_stateful());
  ASSERT_EQ(def->input_arg_size(), 3);
  EXPECT_EQ(def->input_arg(0).type_attr(), "T");
  EXPECT_EQ(def->input_arg(1).number_attr(), "N");
  EXPECT_TRUE(def->input_arg(2).is_ref());
  EXPECT_EQ(def->input_arg(2).type(), tf::DT_FLOAT);
  EXPECT_EQ(def->output_arg(2).type_list_attr(), "L");
  ASSERT_EQ(def->attr_size(), 6);
  EXPECT_EQ(def->attr(0).type(), "type");
  EXPECT_EQ(def->attr(0).allowed_values().list().type_size(), 2);
  EXPECT_TRUE(def->attr(1).has_minimum());
  EXPECT_EQ(def->attr(1).minimum(), 1);
  EXPECT_EQ(def->attr(2).default_value().i(), 2);
  EXPECT_EQ(def->attr(4).type(), "string");
  EXPECT_EQ(def->attr(4).default_value().s(), "SAME");
  EXPECT_EQ(def->attr(5).default_value().list().i_size(), 2);
}

TEST(OpRegistry, RejectsBadSpecs) {
  OpRegistry r;
  EXPECT_THROW(r.add("NoArrow(x: T)"), std::invalid_argument);
  EXPECT_THROW(r.add("Bad(x: nosuchtype) -> ()"), std::invalid_argument);
  EXPECT_THROW(r.add("Bad() -> () | k: int = abc"), std::invalid_argument);
}

TEST(OpRegistry, CountsOutputsFromAttrs) {
  const auto& r = OpRegistry::global();
  tf::NodeDef split;
  split.set_op("Split");
  (*split.mutable_attr())["num_split"].set_i(3);
  EXPECT_EQ(count_outputs(*r.find("Split"), split), 3);
  tf::NodeDef bn;
  EXPECT_EQ(count_outputs(*r.find("FusedBatchNormV3"), bn), 6);
  tf::NodeDef restore;
  (*restore.mutable_attr())["dtypes"].mutable_list()->add_type(tf::DT_FLOAT);
  (*restore.mutable_attr())["dtypes"].mutable_list()->add_type(tf::DT_INT32);
  EXPECT_EQ(count_outputs(*r.find("RestoreV2"), restore), 2);
  tf::NodeDef unpack;  // num missing: unknown
  EXPECT_FALSE(count_outputs(*r.find("Unpack"), unpack));
}

TEST(OpRegistry, BuiltinHasTheDefaultsOldProducersOmit) {
  const auto& r = OpRegistry::global();
  EXPECT_GT(r.size(), 200);
  const tf::OpDef* conv = r.find("Conv2D");
  ASSERT_NE(conv, nullptr);
  tf::NodeDef node;
  const tf::AttrValue* dilations = attr_or_default(*conv, node, "dilations");
  ASSERT_NE(dilations, nullptr);
  EXPECT_EQ(dilations->list().i_size(), 4);
  EXPECT_EQ(attr_or_default(*conv, node, "data_format")->s(), "NHWC");
  EXPECT_EQ(attr_or_default(*conv, node, "strides"), nullptr);  // required, no default
  EXPECT_TRUE(r.find("RandomUniform")->is_stateful());
  EXPECT_FALSE(r.find("Relu")->is_stateful());
}

}  // namespace
}  // namespace tffreeze::graph
