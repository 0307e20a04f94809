"""Co-simulation of the generated Verilog against the golden model.

Two sides, told apart by name:

* host side (this process): `benches` (one bench per unit, from the registry), `harness`
  (lane-parallel vector runs), `runner` (cached simulator builds), `bundle` (port
  wrappers), `vectors` (test vectors), `gemm_bench` / `gemm_streams` (the GEMM array's
  bench and host protocol), `system_bench`;
* simulator side, `cocotb_*`: cocotb test modules the simulator imports and runs
  (`cocotb_vectors` drives the harness's vectors, `cocotb_gemm` the GEMM streams,
  `cocotb_system` the MAC-array system; `cocotb_common` holds their shared reset); they
  talk to the host side only through files named in a JSON spec.
"""
