pragma circom 2.0.0;

// Proves knowledge of private factors a, b with a * b = c, where c is public.
// `address` is a public input that binds the proof to one account: it is squared into a dummy constraint so it
// takes part in the constraint system, and (as every public signal) it enters the verifier's vk_x, so a proof made
// for one address does not verify for another. Public signals, in snarkjs order: [c, address].
template Multiplier() {
    signal input a;
    signal input b;
    signal input address;
    signal output c;

    signal addressSquared;

    c <== a * b;
    addressSquared <== address * address;
}

component main {public [address]} = Multiplier();
