// lpmac's behavioural model of the ECP5 sysDSP primitive MULT18X18D, written from its
// documented behaviour (Lattice "ECP5 and ECP5-5G sysDSP Usage Guide", FPGA-TN-02205), for
// the cocotb benches (sim/runner.py adds it when a design instantiates MULT18X18D). It is
// NOT a vendor simulation model and covers only the mode lpmac's generators use
// (hdl/dsp_ecp5.py):
//   * A and B (with SIGNEDA/SIGNEDB) registered on CLK0, clock enable CE0, synchronous
//     reset RST0 (REG_INPUTA_*/REG_INPUTB_* = "CLK0"/"CE0"/"RST0", RESETMODE "SYNC");
//   * no pipeline and no output register: P = A_reg * B_reg, combinational after them,
//     36 bits, each operand signed when its registered SIGNEDx is 1 (a mixed product is
//     signed);
//   * the C input, the shift-register inputs (SOURCEA/SOURCEB must be 0) and the cascade
//     ports SRIA/SRIB/SROA/SROB/ROA/ROB/ROC are not modelled (the last ones are not even
//     declared: an instance connecting them fails to elaborate).
// Any other parameter setting stops the simulation ($fatal) instead of being simulated
// wrongly. GSR is not modelled (a simulation has no global set/reset).
// Parameters and port names follow Yosys's ECP5 cell library (share/ecp5/cells_bb.v).
`default_nettype none

module MULT18X18D (
    A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17, B0, B1,
    B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, C0, C1, C2, C3,
    C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, SIGNEDA, SIGNEDB,
    SOURCEA, SOURCEB, CLK0, CLK1, CLK2, CLK3, CE0, CE1, CE2, CE3, RST0, RST1, RST2, RST3,
    P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18,
    P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35,
    SIGNEDP
);
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";
    input wire A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17;
    input wire B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17;
    input wire C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17;
    input wire SIGNEDA, SIGNEDB, SOURCEA, SOURCEB;
    input wire CLK0, CLK1, CLK2, CLK3, CE0, CE1, CE2, CE3, RST0, RST1, RST2, RST3;
    output wire P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17,
        P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35;
    output wire SIGNEDP;

    initial begin
        if (REG_INPUTA_CLK != "CLK0")
            $fatal(1, "MULT18X18D model: REG_INPUTA_CLK must be \"CLK0\"");
        if (REG_INPUTA_CE != "CE0")
            $fatal(1, "MULT18X18D model: REG_INPUTA_CE must be \"CE0\"");
        if (REG_INPUTA_RST != "RST0")
            $fatal(1, "MULT18X18D model: REG_INPUTA_RST must be \"RST0\"");
        if (REG_INPUTB_CLK != "CLK0")
            $fatal(1, "MULT18X18D model: REG_INPUTB_CLK must be \"CLK0\"");
        if (REG_INPUTB_CE != "CE0")
            $fatal(1, "MULT18X18D model: REG_INPUTB_CE must be \"CE0\"");
        if (REG_INPUTB_RST != "RST0")
            $fatal(1, "MULT18X18D model: REG_INPUTB_RST must be \"RST0\"");
        if (REG_PIPELINE_CLK != "NONE")
            $fatal(1, "MULT18X18D model: REG_PIPELINE_CLK must be \"NONE\"");
        if (REG_OUTPUT_CLK != "NONE")
            $fatal(1, "MULT18X18D model: REG_OUTPUT_CLK must be \"NONE\"");
        if (HIGHSPEED_CLK != "NONE")
            $fatal(1, "MULT18X18D model: HIGHSPEED_CLK must be \"NONE\"");
        if (MULT_BYPASS != "DISABLED")
            $fatal(1, "MULT18X18D model: MULT_BYPASS must be \"DISABLED\"");
        if (RESETMODE != "SYNC")
            $fatal(1, "MULT18X18D model: RESETMODE must be \"SYNC\"");
    end

    wire [17:0] a_in = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3,
                        A2, A1, A0};
    wire [17:0] b_in = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3,
                        B2, B1, B0};
    reg [17:0] a_reg, b_reg;
    reg signed_a_reg, signed_b_reg;
    always @(posedge CLK0) begin
        if (SOURCEA !== 1'b0 || SOURCEB !== 1'b0)
            $fatal(1, "MULT18X18D model: SOURCEA/SOURCEB (shift inputs) must be 0");
        if (RST0) begin
            a_reg <= 18'd0;
            b_reg <= 18'd0;
            signed_a_reg <= 1'b0;
            signed_b_reg <= 1'b0;
        end else if (CE0) begin
            a_reg <= a_in;
            b_reg <= b_in;
            signed_a_reg <= SIGNEDA;
            signed_b_reg <= SIGNEDB;
        end
    end

    // Each operand extended to 36 bits by its sign flag: the product modulo 2^36 is then
    // the signed, unsigned or mixed product.
    wire [35:0] a_wide = {{18{signed_a_reg & a_reg[17]}}, a_reg};
    wire [35:0] b_wide = {{18{signed_b_reg & b_reg[17]}}, b_reg};
    wire [35:0] product = a_wide * b_wide;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20,
            P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2,
            P1, P0} = product;
    assign SIGNEDP = signed_a_reg | signed_b_reg;
endmodule
`default_nettype wire
