// lpmac's behavioural model of the UltraScale+ DSP48E2 primitive, written from its documented
// behaviour (AMD/Xilinx UG579 "UltraScale Architecture DSP Slice"), for the cocotb benches
// (sim/runner.py adds it when a design instantiates DSP48E2). It is NOT a vendor simulation
// model and covers only the multiply-accumulate mode lpmac's generators use (hdl/dsp_xcup.py):
//   * M = A[26:0] * B[17:0], both signed (USE_MULT "MULTIPLY", AMULTSEL "A", BMULTSEL "B",
//     A_INPUT/B_INPUT "DIRECT", no pre-adder: INMODE 0);
//   * A and B through zero or one register (AREG = ACASCREG, BREG = BCASCREG in {0, 1}; the
//     one register is A2/B2 with CEA2/CEB2), M through zero or one register (MREG, CEM);
//   * P = Z + X + Y with X = Y = M (together the product), W = 0, Z = P or 0, i.e. OPMODE
//     0x025 (accumulate) or 0x005 (restart) after IS_OPMODE_INVERTED, not registered
//     (OPMODEREG 0); ALUMODE 0 (add), CARRYIN 0 with CARRYINSEL 0; P registered (PREG 1,
//     CEP), 48 bits, wrapping;
//   * synchronous resets RSTA, RSTB, RSTM, RSTP clear their registers.
// Any other parameter setting or control value stops the simulation ($fatal) instead of being
// simulated wrongly. The other outputs (cascades, carry, pattern detect) are driven 0 and not
// modelled. Parameters and port names follow Yosys's Xilinx cell library (share/xilinx/
// cells_xtra.v).
`default_nettype none

module DSP48E2 (
    ACOUT, BCOUT, CARRYCASCOUT, CARRYOUT, MULTSIGNOUT, OVERFLOW, P, PATTERNBDETECT,
    PATTERNDETECT, PCOUT, UNDERFLOW, XOROUT, A, ACIN, ALUMODE, B, BCIN, C, CARRYCASCIN,
    CARRYIN, CARRYINSEL, CEA1, CEA2, CEAD, CEALUMODE, CEB1, CEB2, CEC, CECARRYIN, CECTRL,
    CED, CEINMODE, CEM, CEP, CLK, D, INMODE, MULTSIGNIN, OPMODE, PCIN, RSTA, RSTALLCARRYIN,
    RSTALUMODE, RSTB, RSTC, RSTCTRL, RSTD, RSTINMODE, RSTM, RSTP
);
    parameter integer ACASCREG = 1;
    parameter integer ADREG = 1;
    parameter integer ALUMODEREG = 1;
    parameter AMULTSEL = "A";
    parameter integer AREG = 1;
    parameter AUTORESET_PATDET = "NO_RESET";
    parameter AUTORESET_PRIORITY = "RESET";
    parameter A_INPUT = "DIRECT";
    parameter integer BCASCREG = 1;
    parameter BMULTSEL = "B";
    parameter integer BREG = 1;
    parameter B_INPUT = "DIRECT";
    parameter integer CARRYINREG = 1;
    parameter integer CARRYINSELREG = 1;
    parameter integer CREG = 1;
    parameter integer DREG = 1;
    parameter integer INMODEREG = 1;
    parameter [3:0] IS_ALUMODE_INVERTED = 4'b0000;
    parameter [0:0] IS_CARRYIN_INVERTED = 1'b0;
    parameter [0:0] IS_CLK_INVERTED = 1'b0;
    parameter [4:0] IS_INMODE_INVERTED = 5'b00000;
    parameter [8:0] IS_OPMODE_INVERTED = 9'b000000000;
    parameter [0:0] IS_RSTALLCARRYIN_INVERTED = 1'b0;
    parameter [0:0] IS_RSTALUMODE_INVERTED = 1'b0;
    parameter [0:0] IS_RSTA_INVERTED = 1'b0;
    parameter [0:0] IS_RSTB_INVERTED = 1'b0;
    parameter [0:0] IS_RSTCTRL_INVERTED = 1'b0;
    parameter [0:0] IS_RSTC_INVERTED = 1'b0;
    parameter [0:0] IS_RSTD_INVERTED = 1'b0;
    parameter [0:0] IS_RSTINMODE_INVERTED = 1'b0;
    parameter [0:0] IS_RSTM_INVERTED = 1'b0;
    parameter [0:0] IS_RSTP_INVERTED = 1'b0;
    parameter [47:0] MASK = 48'h3FFFFFFFFFFF;
    parameter integer MREG = 1;
    parameter integer OPMODEREG = 1;
    parameter [47:0] PATTERN = 48'h000000000000;
    parameter PREADDINSEL = "A";
    parameter integer PREG = 1;
    parameter [47:0] RND = 48'h000000000000;
    parameter SEL_MASK = "MASK";
    parameter SEL_PATTERN = "PATTERN";
    parameter USE_MULT = "MULTIPLY";
    parameter USE_PATTERN_DETECT = "NO_PATDET";
    parameter USE_SIMD = "ONE48";
    parameter USE_WIDEXOR = "FALSE";
    parameter XORSIMD = "XOR24_48_96";
    output wire [29:0] ACOUT;
    output wire [17:0] BCOUT;
    output wire CARRYCASCOUT;
    output wire [3:0] CARRYOUT;
    output wire MULTSIGNOUT;
    output wire OVERFLOW;
    output reg [47:0] P;
    output wire PATTERNBDETECT;
    output wire PATTERNDETECT;
    output wire [47:0] PCOUT;
    output wire UNDERFLOW;
    output wire [7:0] XOROUT;
    input wire [29:0] A;
    input wire [29:0] ACIN;
    input wire [3:0] ALUMODE;
    input wire [17:0] B;
    input wire [17:0] BCIN;
    input wire [47:0] C;
    input wire CARRYCASCIN;
    input wire CARRYIN;
    input wire [2:0] CARRYINSEL;
    input wire CEA1, CEA2, CEAD, CEALUMODE, CEB1, CEB2, CEC, CECARRYIN, CECTRL, CED;
    input wire CEINMODE, CEM, CEP, CLK;
    input wire [26:0] D;
    input wire [4:0] INMODE;
    input wire MULTSIGNIN;
    input wire [8:0] OPMODE;
    input wire [47:0] PCIN;
    input wire RSTA, RSTALLCARRYIN, RSTALUMODE, RSTB, RSTC, RSTCTRL, RSTD, RSTINMODE, RSTM;
    input wire RSTP;

    localparam [8:0] OPMODE_ACCUMULATE = 9'h025;  // W = 0, Z = P, Y = M, X = M
    localparam [8:0] OPMODE_RESTART = 9'h005;  // W = 0, Z = 0, Y = M, X = M

    initial begin
        if (AREG != 0 && AREG != 1) $fatal(1, "DSP48E2 model: AREG must be 0 or 1");
        if (BREG != 0 && BREG != 1) $fatal(1, "DSP48E2 model: BREG must be 0 or 1");
        if (ACASCREG != AREG) $fatal(1, "DSP48E2 model: ACASCREG must equal AREG");
        if (BCASCREG != BREG) $fatal(1, "DSP48E2 model: BCASCREG must equal BREG");
        if (MREG != 0 && MREG != 1) $fatal(1, "DSP48E2 model: MREG must be 0 or 1");
        if (PREG != 1) $fatal(1, "DSP48E2 model: PREG must be 1");
        if (OPMODEREG != 0 || ALUMODEREG != 0 || INMODEREG != 0)
            $fatal(1, "DSP48E2 model: OPMODEREG, ALUMODEREG, INMODEREG must be 0");
        if (CARRYINREG != 0 || CARRYINSELREG != 0)
            $fatal(1, "DSP48E2 model: CARRYINREG, CARRYINSELREG must be 0");
        if (USE_MULT != "MULTIPLY") $fatal(1, "DSP48E2 model: USE_MULT must be \"MULTIPLY\"");
        if (USE_SIMD != "ONE48") $fatal(1, "DSP48E2 model: USE_SIMD must be \"ONE48\"");
        if (AMULTSEL != "A" || BMULTSEL != "B" || PREADDINSEL != "A")
            $fatal(1, "DSP48E2 model: AMULTSEL, BMULTSEL, PREADDINSEL must be \"A\", \"B\", \"A\"");
        if (A_INPUT != "DIRECT" || B_INPUT != "DIRECT")
            $fatal(1, "DSP48E2 model: A_INPUT and B_INPUT must be \"DIRECT\"");
        if (USE_PATTERN_DETECT != "NO_PATDET")
            $fatal(1, "DSP48E2 model: USE_PATTERN_DETECT must be \"NO_PATDET\"");
        if (IS_ALUMODE_INVERTED != 0 || IS_CARRYIN_INVERTED != 0 || IS_CLK_INVERTED != 0
                || IS_INMODE_INVERTED != 0 || IS_RSTA_INVERTED != 0 || IS_RSTB_INVERTED != 0
                || IS_RSTM_INVERTED != 0 || IS_RSTP_INVERTED != 0)
            $fatal(1, "DSP48E2 model: only IS_OPMODE_INVERTED may be set");
    end

    wire [8:0] opmode = OPMODE ^ IS_OPMODE_INVERTED;

    reg [26:0] a_reg;
    reg [17:0] b_reg;
    reg [44:0] m_reg;
    wire [26:0] a_mult = (AREG == 1) ? a_reg : A[26:0];
    wire [17:0] b_mult = (BREG == 1) ? b_reg : B;
    // Both operands sign-extended to 45 bits: the product modulo 2^45 is the signed product.
    wire [44:0] product = {{18{a_mult[26]}}, a_mult} * {{27{b_mult[17]}}, b_mult};
    wire [44:0] m_out = (MREG == 1) ? m_reg : product;
    wire [47:0] z = (opmode == OPMODE_ACCUMULATE) ? P : 48'd0;

    always @(posedge CLK) begin
        if (opmode != OPMODE_ACCUMULATE && opmode != OPMODE_RESTART)
            $fatal(1, "DSP48E2 model: OPMODE must be 0x025 or 0x005 (after inversion)");
        if (ALUMODE !== 4'd0 || INMODE !== 5'd0 || CARRYINSEL !== 3'd0 || CARRYIN !== 1'b0)
            $fatal(1, "DSP48E2 model: ALUMODE, INMODE, CARRYINSEL and CARRYIN must be 0");
        if (RSTA) a_reg <= 27'd0;
        else if (CEA2) a_reg <= A[26:0];
        if (RSTB) b_reg <= 18'd0;
        else if (CEB2) b_reg <= B;
        if (RSTM) m_reg <= 45'd0;
        else if (CEM) m_reg <= product;
        if (RSTP) P <= 48'd0;
        else if (CEP) P <= z + {{3{m_out[44]}}, m_out};
    end

    assign ACOUT = 30'd0;
    assign BCOUT = 18'd0;
    assign CARRYCASCOUT = 1'b0;
    assign CARRYOUT = 4'd0;
    assign MULTSIGNOUT = 1'b0;
    assign OVERFLOW = 1'b0;
    assign PATTERNBDETECT = 1'b0;
    assign PATTERNDETECT = 1'b0;
    assign PCOUT = 48'd0;
    assign UNDERFLOW = 1'b0;
    assign XOROUT = 8'd0;
endmodule
`default_nettype wire
