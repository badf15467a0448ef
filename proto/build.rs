//! Generates the flyteidl message types from `flyteidl.fds.bin` (see scripts/gen-flyteidl-descriptors.py).
//! No protoc: prost-build works from the already-compiled descriptor set. With the `grpc` feature,
//! tonic-prost-build generates the same messages plus the service clients (no servers).

use prost::Message;

fn main() {
    let bytes = std::fs::read("flyteidl.fds.bin").expect("read flyteidl.fds.bin");
    let fds = prost_types::FileDescriptorSet::decode(bytes.as_slice()).expect("decode flyteidl.fds.bin");
    println!("cargo:rerun-if-changed=flyteidl.fds.bin");
    #[cfg(feature = "grpc")]
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .build_transport(false)
        .compile_fds(fds)
        .expect("generate flyteidl types and clients");
    #[cfg(not(feature = "grpc"))]
    prost_build::Config::new().compile_fds(fds).expect("generate flyteidl types");
}
