// Package nn builds, trains and evaluates image classifiers whose forward
// pass runs on low-bit integers, following the method in METHOD.md
// (patent CN112884146B):
//
//   - S100, forward propagation: each quantized layer (Conv2D, Linear)
//     quantizes its float input and its weights to integers with a scale
//     and zero point taken from their distribution (Quantizer), and
//     multiplies them in integer arithmetic with int32 accumulation.
//   - S200, error compensation: the int32 products are dequantized exactly
//     (the zero-point correction of METHOD.md), corrected by a learnable
//     Compensation layer (γ·E + β per channel), normalised by BatchNorm and
//     activated; the loss is softmax cross-entropy plus an L2 term on the
//     compensation parameters.
//   - S300, backward propagation: gradients of every parameter (weights,
//     biases, quantization scale and zero point, compensation, norm affine)
//     are thresholded element-wise and applied by SGD.
//
// The Trainer keeps the three modules visible as such (forwardModule,
// compensation inside the layer stack and the loss, backwardModule).
//
// A model is a directed acyclic graph of layers (ModelSpec, LayerSpec.Inputs):
// a chain in the short syntax ("conv:32:3,comp,bn,relu,..."), residual
// basic blocks with res:OUT:STRIDE, or any graph in the JSON form. Layer
// kinds are registered once (LayerKinds); NamedModels lists the models
// --model accepts by name (patent, res8, mobile). Besides Conv2D and Linear,
// the quantized DepthwiseConv2D multiplies on integer codes; Add (the
// residual add, a MergeLayer), AvgPool and GlobalAvgPool work on floats.
//
// Layers record ops on a backend.Backend; the pure-Go reference backend
// (nn/ref) and the Vulkan backend run the same model. Parameters keep a
// host master copy (Param.Data) that the optimizer updates; the backend
// tensors are refreshed from it after each step.
package nn
