// Package view is vktrain's live training dashboard: loss and accuracy
// curves, speed and ETA, the first convolution's filters, test images with
// their predictions and the last confusion matrix.
//
// The dashboard is drawn on the host into an image.RGBA (Renderer, with
// gonum/plot for the curves) on goroutines of its own: the training loop
// feeds a Recorder, which publishes immutable Snapshots to a Hub at most a
// few times a second with non-blocking sends (a busy sink finds the newest
// snapshot waiting when it is free; older ones are dropped), so drawing never
// blocks a training step. Each sink paces itself (Pacer): a few frames per
// second at most, and no more than a small share of one core.
//
// Two sinks exist. PNGSink writes the dashboard to a PNG file every few
// seconds and at the end (--view-png; pure Go, in every build). The window
// (--view) needs cgo, GLFW and X11 headers, so it is built only with the
// build tag "view" (go build -tags view ./cmd/vktrain); without it,
// PrepareWindow returns ErrNotBuilt. The window is a GLFW window with no
// client API; its Vulkan surface comes from glfw.CreateWindowSurface on the
// training device's own instance (opened with the instance extensions GLFW
// asks for, see WindowPrep.InstanceExtensions), and each frame is copied
// into the swapchain image with a buffer-to-image copy (gpu.Swapchain). When
// training runs on the CPU (or its device cannot present to the window), the
// window opens a Vulkan device of its own for presenting only (lavapipe on a
// machine without a GPU).
package view
