#include "sim/core/engine.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include <unordered_map>

#include <simgrid/kernel/Timer.hpp>
#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u/Activity.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include "sim/core/check.h"
#include "sim/io/interrupt.h"

namespace servesim {
namespace sg = simgrid::s4u;
using simgrid::kernel::timer::Timer;

namespace {

struct QueuedEvent {
  double time;
  int phase;
  uint64_t sequence;
  uint32_t slot;  // index of the callback in Impl::callbacks
};

// Min-heap on (time, phase, sequence) via std::push_heap's max-heap.
struct LaterFirst {
  bool operator()(const QueuedEvent& a, const QueuedEvent& b) const {
    if (a.time != b.time) return a.time > b.time;
    if (a.phase != b.phase) return a.phase > b.phase;
    return a.sequence > b.sequence;
  }
};

// Activities carry a pointer to this; the global completion signal finds it.
// It also holds a reference so SimGrid never sees the activity freed before
// its completion handling ends; the reference is dropped by the completion event.
struct PendingActivity {
  std::function<void()> on_done;
  sg::ActivityPtr self;
  double latency_s;
};

// Removes SimGrid's default console logging noise and picks the plain max-min
// network model with no TCP window cap, so one flow takes latency + bytes / bw.
char kArg0[] = "servesim";
char kArgLog[] = "--log=root.thres:critical";
char kArgModel[] = "--cfg=network/model:CM02";
char kArgGamma[] = "--cfg=network/TCP-gamma:0";
char kArgCross[] = "--cfg=network/crosstraffic:0";
char kArgOptim[] = "--cfg=network/optim:Full";

// A zone whose routes are computed on demand (a PlatformSpec with a RouteSource): SimGrid asks
// get_local_route for the links between two of its netpoints when a flow starts; listing them
// pair by pair (a full zone) would take N^2 routes for N endpoints.
using simgrid::kernel::resource::StandardLinkImpl;
using simgrid::kernel::routing::NetPoint;
class RoutedOnDemandZone final : public simgrid::kernel::routing::NetZoneImpl {
 public:
  using Router = std::function<void(unsigned long src, unsigned long dst, std::vector<StandardLinkImpl*>& links)>;
  RoutedOnDemandZone(const std::string& name, Router router) : NetZoneImpl(name), router_(std::move(router)) {}
  void get_local_route(const NetPoint* src, const NetPoint* dst, simgrid::kernel::routing::Route* into,
                       double* /*latency: the links carry none (engine.h)*/) override {
    router_(src->id(), dst->id(), into->link_list_);
  }

 private:
  Router router_;
};

}  // namespace

struct Engine::Impl {
  std::unique_ptr<sg::Engine> simgrid;
  std::vector<sg::Host*> hosts;
  std::map<std::string, EndpointId> endpoint_ids;
  // A disk is a pair of hidden hosts: reads flow device -> host over a read
  // link, writes the other way over a write link, and both also cross a link of
  // the larger of the two bandwidths (the device's shared capacity), max-min as
  // SimGrid's own disk model shares them. SimGrid 3.32 keeps every finished
  // Io that maestro started on maestro's activity list and scans that list on
  // each completion, which made long replays with a disk tier quadratic.
  struct DiskEnds {
    sg::Host* device;
    sg::Host* host;
  };
  std::vector<DiskEnds> disks;
  std::map<std::string, DiskId> disk_ids;

  std::vector<QueuedEvent> heap;
  std::vector<std::function<void()>> callbacks;
  std::vector<uint32_t> free_slots;
  uint64_t next_sequence = 0;

  Timer* armed = nullptr;
  double armed_time = std::numeric_limits<double>::infinity();
  int activities_in_flight = 0;
  // While no SimGrid activity is in flight, wake() runs future events directly
  // without a SimGrid round per event ("fast-forward"); SimGrid's clock then lags
  // ours, and activities requested meanwhile wait here until a timer at our
  // time has brought SimGrid's clock up.
  bool draining = false;
  std::vector<std::function<void()>> deferred_starts;
  // The first exception an event or completion callback threw: the run stops, run() rethrows it.
  std::exception_ptr failure;
  // Sum of link latencies of the route src -> dst, indexed src * endpoints + dst (listed routes).
  std::vector<double> route_latency_s;
  // Routes on demand: the source, links by index, latency of each route asked so far (by
  // src * endpoints + dst) and the disks' own routes (by netpoint id pair).
  std::shared_ptr<const RouteSource> route_source;
  std::vector<sg::Link*> link_by_index;
  std::vector<double> link_latency_by_index;
  std::vector<std::size_t> endpoint_of_vertex;  // netpoint id -> endpoint index (npos: a disk end)
  // Each route asked so far (routes on demand) or listed: its summed latency and its links, for the
  // bytes each link carried.
  struct LazyRoute {
    double latency_s = 0.0;
    std::vector<uint32_t> links;
  };
  std::unordered_map<uint64_t, LazyRoute> lazy_routes;
  std::vector<double> link_bytes;
  std::vector<double> disk_read_bytes, disk_write_bytes;
  std::map<std::pair<unsigned long, unsigned long>, std::vector<StandardLinkImpl*>> disk_routes;
  std::vector<std::size_t> scratch;

  double latency(EndpointId src, EndpointId dst) {
    if (route_source) return route(src, dst).latency_s;
    return route_latency_s[static_cast<uint64_t>(src) * hosts.size() + static_cast<uint64_t>(dst)];
  }
  /// The route src -> dst (routes on demand), computed the first time it is asked.
  const LazyRoute& route(EndpointId src, EndpointId dst);
};

const Engine::Impl::LazyRoute& Engine::Impl::route(EndpointId src, EndpointId dst) {
  const uint64_t key = static_cast<uint64_t>(src) * hosts.size() + static_cast<uint64_t>(dst);
  auto it = lazy_routes.find(key);
  if (it != lazy_routes.end()) return it->second;
  scratch.clear();
  route_source->route(static_cast<std::size_t>(src), static_cast<std::size_t>(dst), scratch);
  LazyRoute computed;
  for (std::size_t link : scratch) {
    if (link >= link_latency_by_index.size()) throw std::invalid_argument("route uses an unknown link index");
    computed.latency_s += link_latency_by_index[link];
    computed.links.push_back(static_cast<uint32_t>(link));
  }
  return lazy_routes.emplace(key, std::move(computed)).first->second;
}

Engine::Engine(const PlatformSpec& platform) : impl_(std::make_unique<Impl>()) {
  int argc = 6;
  char* argv[] = {kArg0, kArgLog, kArgModel, kArgGamma, kArgCross, kArgOptim, nullptr};
  impl_->simgrid = std::make_unique<sg::Engine>(&argc, argv);
  reinstall_interrupt_handlers();  // SimGrid's SIGINT handler exits 1 without cleaning up

  Impl* impl = impl_.get();
  impl->route_source = platform.route_source;
  if (platform.route_source && !platform.routes.empty()) {
    throw std::invalid_argument("a platform with routes on demand lists no routes");
  }
  sg::NetZone* zone = nullptr;
  if (platform.route_source) {
    auto* on_demand = new RoutedOnDemandZone(
        "servesim", [impl](unsigned long src, unsigned long dst, std::vector<StandardLinkImpl*>& links) {
          const std::size_t a = src < impl->endpoint_of_vertex.size() ? impl->endpoint_of_vertex[src] : SIZE_MAX;
          const std::size_t b = dst < impl->endpoint_of_vertex.size() ? impl->endpoint_of_vertex[dst] : SIZE_MAX;
          if (a == SIZE_MAX || b == SIZE_MAX) {
            const auto& hops = impl->disk_routes.at({src, dst});
            links.insert(links.end(), hops.begin(), hops.end());
            return;
          }
          impl->scratch.clear();
          impl->route_source->route(a, b, impl->scratch);  // checked by Engine::transfer beforehand
          for (std::size_t link : impl->scratch) links.push_back(impl->link_by_index[link]->get_impl());
        });
    zone = on_demand->get_iface();
  } else {
    zone = sg::create_full_zone("servesim");
  }
  for (const std::string& name : platform.endpoints) {
    if (impl_->endpoint_ids.count(name)) throw std::invalid_argument("duplicate endpoint '" + name + "'");
    impl_->endpoint_ids[name] = static_cast<EndpointId>(impl_->hosts.size());
    impl_->hosts.push_back(zone->create_host(name, 1.0));
  }
  std::map<std::string, sg::Link*> links;
  std::map<std::string, double> link_latency;
  std::map<std::string, uint32_t> link_index;
  const std::size_t endpoint_count = impl_->hosts.size();
  if (!platform.route_source) impl_->route_latency_s.assign(endpoint_count * endpoint_count, 0.0);
  for (const PlatformSpec::Link& spec : platform.links) {
    if (!(spec.bytes_per_s > 0.0) || spec.latency_s < 0.0) {
      throw std::invalid_argument("link '" + spec.name + "' needs a positive bandwidth and non-negative latency");
    }
    if (links.count(spec.name)) throw std::invalid_argument("duplicate link '" + spec.name + "'");
    // Latency is applied by us at the receiving end (see engine.h), so SimGrid
    // links carry bandwidth only.
    link_index[spec.name] = static_cast<uint32_t>(impl_->link_by_index.size());
    links[spec.name] = zone->create_link(spec.name, spec.bytes_per_s);
    link_latency[spec.name] = spec.latency_s;
    impl_->link_by_index.push_back(links[spec.name]);
    impl_->link_latency_by_index.push_back(spec.latency_s);
  }
  impl_->link_bytes.assign(platform.links.size(), 0.0);
  if (platform.route_source) {
    for (std::size_t i = 0; i < endpoint_count; ++i) {
      const unsigned long vertex = impl_->hosts[i]->get_netpoint()->id();
      if (impl_->endpoint_of_vertex.size() <= vertex) impl_->endpoint_of_vertex.resize(vertex + 1, SIZE_MAX);
      impl_->endpoint_of_vertex[vertex] = i;
    }
  }
  for (const PlatformSpec::Route& route : platform.routes) {
    std::vector<sg::LinkInRoute> hops;
    Impl::LazyRoute listed;  // kept for the bytes each link carries
    for (const std::string& name : route.links) {
      auto it = links.find(name);
      if (it == links.end()) throw std::invalid_argument("route uses unknown link '" + name + "'");
      hops.emplace_back(it->second);
      listed.latency_s += link_latency[name];
      listed.links.push_back(link_index[name]);
    }
    const EndpointId src = endpoint(route.src);
    const EndpointId dst = endpoint(route.dst);
    impl_->route_latency_s[src * endpoint_count + dst] = listed.latency_s;
    if (route.symmetric) impl_->route_latency_s[dst * endpoint_count + src] = listed.latency_s;
    if (route.symmetric) impl_->lazy_routes[static_cast<uint64_t>(dst) * endpoint_count + src] = listed;
    impl_->lazy_routes[static_cast<uint64_t>(src) * endpoint_count + dst] = std::move(listed);
    zone->add_route(impl_->hosts[src]->get_netpoint(), impl_->hosts[dst]->get_netpoint(), nullptr, nullptr, hops,
                    route.symmetric);
  }
  for (const PlatformSpec::Disk& spec : platform.disks) {
    if (!(spec.read_bytes_per_s > 0.0) || !(spec.write_bytes_per_s > 0.0)) {
      throw std::invalid_argument("disk '" + spec.name + "' needs positive read and write bandwidths");
    }
    if (impl_->disk_ids.count(spec.name)) throw std::invalid_argument("duplicate disk '" + spec.name + "'");
    endpoint(spec.endpoint);  // must exist
    const std::string prefix = "disk:" + spec.name + ":";
    Impl::DiskEnds ends{zone->create_host(prefix + "device", 1.0), zone->create_host(prefix + "host", 1.0)};
    sg::Link* read = zone->create_link(prefix + "read", spec.read_bytes_per_s);
    sg::Link* write = zone->create_link(prefix + "write", spec.write_bytes_per_s);
    sg::Link* shared = zone->create_link(prefix + "shared", std::max(spec.read_bytes_per_s, spec.write_bytes_per_s));
    if (platform.route_source) {
      const unsigned long device = ends.device->get_netpoint()->id(), host = ends.host->get_netpoint()->id();
      impl_->disk_routes[{device, host}] = {read->get_impl(), shared->get_impl()};
      impl_->disk_routes[{host, device}] = {write->get_impl(), shared->get_impl()};
    } else {
      zone->add_route(ends.device->get_netpoint(), ends.host->get_netpoint(), nullptr, nullptr,
                      {sg::LinkInRoute(read), sg::LinkInRoute(shared)}, false);
      zone->add_route(ends.host->get_netpoint(), ends.device->get_netpoint(), nullptr, nullptr,
                      {sg::LinkInRoute(write), sg::LinkInRoute(shared)}, false);
    }
    impl_->disk_ids[spec.name] = static_cast<DiskId>(impl_->disks.size());
    impl_->disks.push_back(ends);
    impl_->disk_read_bytes.push_back(0.0);
    impl_->disk_write_bytes.push_back(0.0);
  }
  zone->seal();

  sg::Activity::on_completion_cb([this, impl](const sg::Activity& activity) {
    auto* pending = activity.get_data<PendingActivity>();
    if (pending == nullptr) return;
    --impl->activities_in_flight;
    if (impl->failure) {  // the run has stopped: the transfer ends without its callback
      const_cast<sg::Activity&>(activity).set_data(nullptr);
      delete pending;  // after set_data: it holds the last reference to the activity
      return;
    }
    now_ = sg::Engine::get_clock();
    std::shared_ptr<PendingActivity> owned(pending);
    const_cast<sg::Activity&>(activity).set_data(nullptr);
    // Completions run in phase kPhaseCompletion, before anything else due now.
    // Deliver inline (saving SimGrid a timer round) unless an earlier-scheduled
    // event of that same phase is already due, which must keep its turn.
    const bool queued_completion_due = !impl->heap.empty() && impl->heap.front().time <= now_ &&
                                       impl->heap.front().phase <= kPhaseCompletion;
    if (owned->latency_s > 0.0 || queued_completion_due) {
      schedule_at(now_ + owned->latency_s, kPhaseCompletion, [owned]() { owned->on_done(); });
    } else {
      ++events_run_;
      guarded([&owned] { owned->on_done(); });
    }
  });
}

Engine::~Engine() {
  // A run that failed before its events ran (bad input found at start) leaves the wake-up
  // timer armed; SimGrid would keep it past the engine (a leak under ASan).
  if (impl_->armed != nullptr) impl_->armed->remove();
  impl_->armed = nullptr;
}

double Engine::route_latency(EndpointId src, EndpointId dst) { return impl_->latency(src, dst); }

EndpointId Engine::endpoint(const std::string& name) const {
  auto it = impl_->endpoint_ids.find(name);
  if (it == impl_->endpoint_ids.end()) throw std::invalid_argument("unknown endpoint '" + name + "'");
  return it->second;
}

DiskId Engine::disk(const std::string& name) const {
  auto it = impl_->disk_ids.find(name);
  if (it == impl_->disk_ids.end()) throw std::invalid_argument("unknown disk '" + name + "'");
  return it->second;
}

void Engine::schedule_at(double time, int phase, std::function<void()> fn) {
  SERVESIM_CHECK(time >= now_, "events cannot be scheduled in the past");
  Impl& impl = *impl_;
  uint32_t slot;
  if (!impl.free_slots.empty()) {
    slot = impl.free_slots.back();
    impl.free_slots.pop_back();
    impl.callbacks[slot] = std::move(fn);
  } else {
    slot = static_cast<uint32_t>(impl.callbacks.size());
    impl.callbacks.push_back(std::move(fn));
  }
  impl.heap.push_back(QueuedEvent{time, phase, impl.next_sequence++, slot});
  std::push_heap(impl.heap.begin(), impl.heap.end(), LaterFirst{});

  if (!impl.draining && time < impl.armed_time) arm(time);
}

template <class Fn>
void Engine::guarded(Fn&& fn) {
  try {
    fn();
  } catch (...) {
    // An exception must not unwind through SimGrid's kernel (it would leak the timer being run):
    // keep the first, stop arming, and let run() rethrow it once SimGrid has returned.
    Impl& impl = *impl_;
    if (!impl.failure) impl.failure = std::current_exception();
    if (impl.armed != nullptr) impl.armed->remove();
    impl.armed = nullptr;
    impl.armed_time = std::numeric_limits<double>::infinity();
    impl.draining = false;
  }
}

void Engine::arm(double time) {
  Impl& impl = *impl_;
  if (impl.failure) return;
  if (impl.armed != nullptr) impl.armed->remove();
  impl.armed_time = time;
  impl.armed = Timer::set(time, [this]() { guarded([this] { wake(); }); });
}

void Engine::wake() {
  Impl& impl = *impl_;
  impl.armed = nullptr;
  impl.armed_time = std::numeric_limits<double>::infinity();
  now_ = sg::Engine::get_clock();
  std::vector<std::function<void()>> starts;
  starts.swap(impl.deferred_starts);
  for (auto& start : starts) start();

  // Run every event due now (including ones scheduled for now while running),
  // then fast-forward through later events as long as SimGrid has nothing in
  // flight; stop as soon as an event asks for a transfer or disk operation.
  impl.draining = true;
  while (!impl.heap.empty() && impl.deferred_starts.empty()) {
    const double next = impl.heap.front().time;
    if (next > now_) {
      if (impl.activities_in_flight != 0) break;
      now_ = next;
    }
    std::pop_heap(impl.heap.begin(), impl.heap.end(), LaterFirst{});
    const QueuedEvent event = impl.heap.back();
    impl.heap.pop_back();
    std::function<void()> callback = std::move(impl.callbacks[event.slot]);
    impl.free_slots.push_back(event.slot);
    ++events_run_;
    callback();
  }
  impl.draining = false;
  if (!impl.deferred_starts.empty()) {
    arm(now_);
  } else if (!impl.heap.empty()) {
    arm(impl.heap.front().time);
  }
}

bool Engine::simgrid_lags() const { return now_ > sg::Engine::get_clock(); }

void Engine::transfer(EndpointId src, EndpointId dst, double bytes, std::function<void()> on_done) {
  SERVESIM_CHECK(bytes >= 0.0, "a transfer of a negative or NaN byte count");
  if (simgrid_lags()) {
    impl_->deferred_starts.push_back([this, src, dst, bytes, fn = std::move(on_done)]() mutable {
      transfer(src, dst, bytes, std::move(fn));
    });
    return;
  }
  Impl& impl = *impl_;
  double latency_s = 0.0;
  if (impl.route_source) {  // one lookup: the route's latency and the links its bytes cross
    const Impl::LazyRoute& route = impl.route(src, dst);  // also checks that the route exists
    latency_s = route.latency_s;
    for (uint32_t link : route.links) impl.link_bytes[link] += bytes;
  } else {
    latency_s = impl.latency(src, dst);
    auto listed = impl.lazy_routes.find(static_cast<uint64_t>(src) * impl.hosts.size() + static_cast<uint64_t>(dst));
    if (listed != impl.lazy_routes.end()) {
      for (uint32_t link : listed->second.links) impl.link_bytes[link] += bytes;
    }
  }
  sg::CommPtr comm = sg::Comm::sendto_init(impl.hosts.at(src), impl.hosts.at(dst));
  comm->set_payload_size(static_cast<uint64_t>(std::llround(bytes)));
  comm->set_data(new PendingActivity{std::move(on_done), comm, latency_s});
  ++impl.activities_in_flight;
  comm->vetoable_start();
}

void Engine::disk_io(DiskId disk, double bytes, DiskOp op, std::function<void()> on_done) {
  SERVESIM_CHECK(bytes >= 0.0, "a disk operation of a negative or NaN byte count");
  if (simgrid_lags()) {
    impl_->deferred_starts.push_back([this, disk, bytes, op, fn = std::move(on_done)]() mutable {
      disk_io(disk, bytes, op, std::move(fn));
    });
    return;
  }
  Impl& impl = *impl_;
  const Impl::DiskEnds& ends = impl.disks.at(disk);
  (op == DiskOp::kRead ? impl.disk_read_bytes : impl.disk_write_bytes)[static_cast<std::size_t>(disk)] += bytes;
  sg::CommPtr comm = op == DiskOp::kRead ? sg::Comm::sendto_init(ends.device, ends.host)
                                         : sg::Comm::sendto_init(ends.host, ends.device);
  comm->set_payload_size(static_cast<uint64_t>(std::llround(bytes)));
  comm->set_data(new PendingActivity{std::move(on_done), comm, 0.0});
  ++impl.activities_in_flight;
  comm->vetoable_start();
}

const std::vector<double>& Engine::link_bytes() const { return impl_->link_bytes; }

double Engine::disk_bytes(DiskId disk, DiskOp op) const {
  return (op == DiskOp::kRead ? impl_->disk_read_bytes : impl_->disk_write_bytes).at(static_cast<std::size_t>(disk));
}

void Engine::run() {
  reinstall_interrupt_handlers();
  impl_->simgrid->run();
  if (impl_->failure) std::rethrow_exception(std::exchange(impl_->failure, nullptr));
  SERVESIM_CHECK(impl_->heap.empty() && impl_->activities_in_flight == 0,
                 "the simulation stopped with events or transfers still pending");
}

}  // namespace servesim
