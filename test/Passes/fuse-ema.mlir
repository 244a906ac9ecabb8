// irmb-fuse-ema: the iEMA norm moves into the EMA, which runs streaming.
// RUN: irmb-opt %s --irmb-fuse-ema --split-input-file | FileCheck %s
// RUN: irmb-opt %s --irmb-fuse-ema=report=true --split-input-file -verify-diagnostics -o /dev/null
// RUN: irmb-opt %s '--irmb-fuse-ema=dry-run=true report=true' --split-input-file 2>&1 | FileCheck %s --check-prefix=DRY

// Must fuse the norm (its only consumer is the EMA).
// CHECK-LABEL: func.func @iema
// CHECK-NEXT: %[[E:.*]] = irmb.ema %arg0 {groups = 4 : i64, norm = "m.norm", prefix = "m.ema", streaming}
// CHECK-NEXT: return %[[E]]
// DRY: remark: ema m.ema: not fused: disabled (--disable-fusion)
// DRY: irmb.batch_norm
// DRY-NEXT: irmb.ema %{{.*}} {groups = 4 : i64, prefix = "m.ema"}
func.func @iema(%x: tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32> {
  %z = irmb.batch_norm %x {norm = "m.norm"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  // expected-remark @below {{ema m.ema: fused}}
  %e = irmb.ema %z {groups = 4 : i64, prefix = "m.ema"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %e : tensor<1x8x6x6xf32>
}

// -----

// The norm has a second consumer: it stays, the EMA still streams.
// CHECK-LABEL: func.func @shared_norm
// CHECK: %[[Z:.*]] = irmb.batch_norm
// CHECK-NEXT: irmb.ema %[[Z]] {groups = 4 : i64, prefix = "m.ema", streaming}
func.func @shared_norm(%x: tensor<1x8x6x6xf32>) -> (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) {
  %z = irmb.batch_norm %x {norm = "m.norm"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  // expected-remark @below {{ema m.ema: fused}}
  %e = irmb.ema %z {groups = 4 : i64, prefix = "m.ema"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %z, %e : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>
}
