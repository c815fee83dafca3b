// The continuation an element calls to pass a call on ("next"). Internal building block of
// chain.h and registry_chain.h; element authors use the typed Next classes declared there.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace nsmcert::sdk {

// What follows an element: the remaining elements of its chain, then whatever follows that chain
// inside an enclosing chain (`outer`), and so on; when all are exhausted the call reaches the tail,
// whose behaviour each kind of chain defines.
//
// A Next is a cheap value (two shared pointers and an index) that keeps the chains it refers to
// alive, so an element may keep a copy and call it later (a timer closing a connection, say).
template <typename Element, typename Derived>
class NextBase {
 public:
  using Elements = std::vector<std::shared_ptr<Element>>;

  // The tail: nothing follows.
  NextBase() = default;
  // Used by chains: continue at elements[index], then `outer`.
  NextBase(std::shared_ptr<const Elements> elements, size_t index,
           std::shared_ptr<const Derived> outer)
      : elements_(std::move(elements)), index_(index), outer_(std::move(outer)) {}

  // True when nothing follows (the call would reach the tail).
  bool AtTail() const {
    if (elements_ && index_ < elements_->size()) return false;
    return outer_ == nullptr || outer_->AtTail();
  }

 protected:
  // Calls fn(element, next-after-element) for the following element, or tail() when none follows.
  template <typename Fn, typename Tail>
  auto Dispatch(Fn&& fn, Tail&& tail) const {
    if (elements_ && index_ < elements_->size()) {
      Derived after(elements_, index_ + 1, outer_);
      return fn(*(*elements_)[index_], after);
    }
    if (outer_ != nullptr) return outer_->Dispatch(std::forward<Fn>(fn), std::forward<Tail>(tail));
    return tail();
  }

 private:
  std::shared_ptr<const Elements> elements_;
  size_t index_ = 0;
  std::shared_ptr<const Derived> outer_;
};

}  // namespace nsmcert::sdk
