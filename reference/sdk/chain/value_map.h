// A small thread-safe map from a C++ type to one shared value of that type. Used for call-scoped
// values in a Context and for per-connection metadata (one ValueMap per connection id), so that
// each element keeps its own typed state without a global registry of keys.
#pragma once

#include <memory>
#include <mutex>
#include <typeindex>
#include <unordered_map>
#include <utility>

namespace nsmcert::sdk {

class ValueMap {
 public:
  // Returns the value of type T, creating it with T's default constructor when absent.
  template <typename T>
  std::shared_ptr<T> GetOrCreate() {
    std::lock_guard lock(mu_);
    auto& slot = values_[std::type_index(typeid(T))];
    if (!slot) slot = std::make_shared<T>();
    return std::static_pointer_cast<T>(slot);
  }
  // Returns the value of type T, or nullptr.
  template <typename T>
  std::shared_ptr<T> Get() const {
    std::lock_guard lock(mu_);
    auto it = values_.find(std::type_index(typeid(T)));
    return it == values_.end() ? nullptr : std::static_pointer_cast<T>(it->second);
  }
  template <typename T>
  void Set(std::shared_ptr<T> value) {
    std::lock_guard lock(mu_);
    values_[std::type_index(typeid(T))] = std::move(value);
  }
  template <typename T>
  void Erase() {
    std::lock_guard lock(mu_);
    values_.erase(std::type_index(typeid(T)));
  }
  bool empty() const {
    std::lock_guard lock(mu_);
    return values_.empty();
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::type_index, std::shared_ptr<void>> values_;
};

}  // namespace nsmcert::sdk
