#pragma once
// Contract: idle and full-load power of a device, for the energy of the whole platform. Plain numbers in SI
// units (bytes, bytes/s, FLOP/s, seconds, watts), filled from hardware/catalog/*.json (each number with its
// source there) or inline config by sim/config; the models read these structs, never JSON.


namespace servesim {

/// Power of a device for whole-platform energy (hardware/platform/platform_energy.h): idle, and at full
/// load (every port or lane busy both ways). Both 0 = not given (the device's energy is then not reported).
struct DevicePower {
  double idle_w = 0.0;
  double active_w = 0.0;
  bool given() const { return idle_w > 0.0 || active_w > 0.0; }
};

}  // namespace servesim
