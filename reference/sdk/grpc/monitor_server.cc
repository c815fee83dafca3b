#include "reference/sdk/grpc/monitor_server.h"

#include <mutex>
#include <optional>
#include <set>
#include <utility>

namespace nsmcert::sdk {
namespace {

// One open stream's state. Shared between the reactor (deleted by gRPC after OnDone), the
// subscription's notify callback (which may run on a publishing thread at any time, so it holds
// the core weakly) and the service's list of open streams (for Stop).
struct StreamCore {
  std::mutex mu;
  // Null once OnDone ran: nothing may touch the reactor after that.
  grpc::ServerWriteReactor<connection::ConnectionEvent>* reactor = nullptr;
  // Reset as soon as the stream is over, which unsubscribes from the monitor.
  std::unique_ptr<MonitorSubscription> subscription;
  // The event being written; gRPC reads it until OnWriteDone.
  connection::ConnectionEvent in_flight;
  bool writing = false;
  // Finish was called (or is about to be, by the thread that set this).
  bool finished = false;
  // How to end the stream once no write is in flight (Stop, a cancel, a failed write).
  std::optional<grpc::Status> finish_with;

  // Starts the next write or the Finish, whichever is due, unless a write is in flight. gRPC calls
  // are made after releasing `mu` (a reaction may run on another thread at once and lock it).
  void Pump() {
    enum { kNothing, kWrite, kFinish } action = kNothing;
    grpc::Status status;
    std::unique_ptr<MonitorSubscription> ended;
    grpc::ServerWriteReactor<connection::ConnectionEvent>* target = nullptr;
    {
      std::lock_guard lock(mu);
      if (finished || writing || reactor == nullptr) return;
      target = reactor;
      if (finish_with.has_value()) {
        status = *finish_with;
        action = kFinish;
      } else if (subscription != nullptr) {
        if (auto event = subscription->TryNext(); event.has_value()) {
          in_flight = *std::move(event);
          writing = true;
          action = kWrite;
        } else if (subscription->ended()) {
          status = subscription->overflowed()
                       ? grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      "monitor subscriber fell too far behind")
                       : grpc::Status::OK;
          action = kFinish;
        }
      }
      if (action == kFinish) {
        finished = true;
        ended = std::move(subscription);
      }
    }
    ended.reset();
    // `target` stays valid: OnDone (which deletes it) cannot come before the Finish below, and
    // while `writing` is set nobody else calls Finish.
    if (action == kWrite) target->StartWrite(&in_flight);
    if (action == kFinish) target->Finish(status);
  }

  // Ends the stream with `status` after the write in flight (a first reason wins).
  void FinishWith(grpc::Status status) {
    {
      std::lock_guard lock(mu);
      if (!finish_with.has_value()) finish_with = std::move(status);
    }
    Pump();
  }

  // Drops the subscription now (a cancelled call must not hold it until its writes drained).
  void Unsubscribe() {
    std::unique_ptr<MonitorSubscription> ended;
    std::lock_guard lock(mu);
    ended = std::move(subscription);
  }
};

}  // namespace

struct MonitorConnectionGrpcServer::State {
  std::mutex mu;
  bool stopped = false;
  std::set<std::shared_ptr<StreamCore>> open;
};

class MonitorConnectionGrpcServer::Stream final
    : public grpc::ServerWriteReactor<connection::ConnectionEvent> {
 public:
  explicit Stream(std::shared_ptr<State> state) : state_(std::move(state)) {
    core_->reactor = this;
  }

  // Subscribes and starts writing, or refuses the stream when the service is stopped. Joining the
  // open set and the stopped check are one step, so Stop() cannot miss a stream.
  void Start(ConnectionMonitor& monitor, const connection::MonitorScopeSelector& selector) {
    bool refused = false;
    {
      std::lock_guard lock(state_->mu);
      refused = state_->stopped;
      if (!refused) state_->open.insert(core_);
    }
    if (refused) {
      core_->FinishWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "monitor server is stopped"));
      return;
    }
    auto subscription = monitor.Subscribe(selector);
    // The callback is set before the core owns the subscription, so that a concurrent Stop (which
    // drops it) never races with SetNotify; the Pump below catches up on what came meanwhile.
    std::weak_ptr<StreamCore> weak = core_;
    subscription->SetNotify([weak] {
      if (auto core = weak.lock()) core->Pump();
    });
    {
      std::lock_guard lock(core_->mu);
      if (!core_->finished) core_->subscription = std::move(subscription);
    }
    subscription.reset();  // only when Stop already ended the stream
    core_->Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(core_->mu);
      core_->writing = false;
    }
    // A failed write means the client went away; the stream ends as it did with the sync API.
    if (!ok) core_->FinishWith(grpc::Status::OK);
    core_->Pump();
  }

  void OnCancel() override {
    core_->Unsubscribe();
    core_->FinishWith(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(core_->mu);
      core_->reactor = nullptr;
    }
    core_->Unsubscribe();
    {
      std::lock_guard lock(state_->mu);
      state_->open.erase(core_);
    }
    delete this;
  }

 private:
  std::shared_ptr<State> state_;
  std::shared_ptr<StreamCore> core_ = std::make_shared<StreamCore>();
};

MonitorConnectionGrpcServer::MonitorConnectionGrpcServer(std::shared_ptr<ConnectionMonitor> monitor)
    : monitor_(std::move(monitor)), state_(std::make_shared<State>()) {}

MonitorConnectionGrpcServer::~MonitorConnectionGrpcServer() = default;

grpc::ServerWriteReactor<connection::ConnectionEvent>*
MonitorConnectionGrpcServer::MonitorConnections(grpc::CallbackServerContext* /*context*/,
                                                const connection::MonitorScopeSelector* selector) {
  auto* stream = new Stream(state_);
  stream->Start(*monitor_, *selector);
  return stream;
}

void MonitorConnectionGrpcServer::Stop() {
  std::set<std::shared_ptr<StreamCore>> open;
  {
    std::lock_guard lock(state_->mu);
    state_->stopped = true;
    open = state_->open;
  }
  for (const auto& core : open) core->FinishWith(grpc::Status::OK);
}

}  // namespace nsmcert::sdk
