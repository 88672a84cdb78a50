// One process holds both our TensorFlow schema and OpenCV's: it starts, and both read the same
// frozen graph. Also a first check of our writer against an independent reader: OpenCV loads
// the bytes we write.
#include <opencv2/dnn.hpp>

#include "io/model.h"
#include "io/proto_io.h"
#include "support.h"

namespace tffreeze {
namespace {

TEST(OpenCvCoexistence, BothSchemasLoadTheSameGraph) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/fc-layers/frozen.pb");
  io::Model model = io::load_model(path);
  EXPECT_EQ(model.graph().node_size(), 24);
  cv::dnn::Net original = cv::dnn::readNetFromTensorflow(path);
  EXPECT_FALSE(original.empty());
  // Our re-serialization is read by OpenCV's own parser as the same network.
  std::string dir = test::temp_dir();
  io::save_graph(model.graph(), dir + "/ours.pb");
  cv::dnn::Net rewritten = cv::dnn::readNetFromTensorflow(dir + "/ours.pb");
  EXPECT_EQ(rewritten.getLayerNames(), original.getLayerNames());
  cv::Mat input(1, 784, CV_32F);
  cv::randu(input, 0.0f, 1.0f);
  original.setInput(input);
  rewritten.setInput(input);
  cv::Mat a = original.forward(), b = rewritten.forward();
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(a, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace tffreeze
