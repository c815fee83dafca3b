#include "bench/datapath/iperf.h"

#include "gtest/gtest.h"

namespace nsmcert::bench {
namespace {

// Trimmed from a real `iperf3 -c ... -J` report (iperf 3.12).
constexpr char kReport[] = R"({
  "start": {"test_start": {"protocol": "TCP", "num_streams": 2, "duration": 1}},
  "intervals": [],
  "end": {
    "sum_sent": {"start": 0, "end": 1.000578, "seconds": 1.000578, "bytes": 2466775040,
                 "bits_per_second": 19722800541.287136, "retransmits": 10, "sender": true},
    "sum_received": {"start": 0, "end": 1.000644, "seconds": 1.000644, "bytes": 2466775040,
                     "bits_per_second": 19721499674.20981, "sender": true}
  }
})";

TEST(Iperf3JsonTest, ReadsThroughputRetransmitsAndStreams) {
  absl::StatusOr<TcpBulkResult> r = ParseIperf3Json(kReport);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->sent_bps, 19722800541.287136);
  EXPECT_DOUBLE_EQ(r->received_bps, 19721499674.20981);
  EXPECT_DOUBLE_EQ(r->seconds, 1.000644);
  EXPECT_EQ(r->retransmits, 10);
  EXPECT_EQ(r->streams, 2);
}

TEST(Iperf3JsonTest, ReportsIperfsOwnError) {
  absl::StatusOr<TcpBulkResult> r = ParseIperf3Json(
      R"({"start": {}, "intervals": [], "end": {},
          "error": "unable to connect to server: Connection refused"})");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("Connection refused"), absl::string_view::npos);
}

TEST(Iperf3JsonTest, NamesTheMissingField) {
  absl::StatusOr<TcpBulkResult> r =
      ParseIperf3Json(R"({"end": {"sum_sent": {"bits_per_second": 1}}})");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("end.sum_received.bits_per_second"), absl::string_view::npos);
}

TEST(Iperf3JsonTest, RejectsSomethingThatIsNotJson) {
  EXPECT_EQ(ParseIperf3Json("iperf3: error - unable to connect").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIperf3Json("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nsmcert::bench
