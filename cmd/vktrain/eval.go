package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn"
)

func evalCmd() *command {
	return &command{
		name:  "eval",
		usage: "eval [flags] CHECKPOINT",
		short: "evaluate a checkpoint on a test set",
		long: `Eval loads a checkpoint written by "vktrain train" and runs the integer model over
the test split of a data set, printing accuracy, loss and the confusion matrix.

Examples:

	vktrain eval runs/mnist-int8/model.safetensors
	vktrain eval --data fashion-mnist --device cpu --json model.safetensors`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			dataSpec := fs.String("data", "", "data set whose test split is evaluated (see vktrain help train; default: the one the checkpoint was trained on, else mnist)")
			dev := fs.String("device", "auto", "device: auto, vulkan, vulkan:N or cpu; /packed, /int8 or /dot after a Vulkan device forces its integer GEMM")
			batch := fs.Int("batch", 256, "batch size")
			jsonOut := fs.Bool("json", false, "print one JSON object")
			validation := fs.Bool("validation", false, "enable the Khronos validation layer")
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want exactly one checkpoint path, got %d arguments", len(args))
				}
				if *batch <= 0 {
					return usagef("--batch must be positive")
				}
				if err := checkDeviceSpec(*dev); err != nil {
					return err
				}
				m, meta, err := nn.LoadCheckpoint(args[0])
				if err != nil {
					return err
				}
				var norm data.Norm
				if err := json.Unmarshal([]byte(meta["norm"]), &norm); err != nil {
					return fmt.Errorf("%s: data normalisation metadata: %w", args[0], err)
				}
				if *dataSpec == "" {
					*dataSpec = meta["data"]
					if *dataSpec == "" {
						*dataSpec = "mnist"
					}
				}
				_, test, err := data.Resolve(*dataSpec)
				if err != nil {
					return dataError(err)
				}
				if in := m.Spec.Input; test.H != in[0] || test.W != in[1] || test.C != in[2] {
					return fmt.Errorf("data %s has %dx%dx%d images, the checkpoint's model takes %v", *dataSpec, test.H, test.W, test.C, in)
				}
				d, err := openDevice(*dev, *validation)
				if err != nil {
					return err
				}
				defer d.backend.Close()
				tr, err := nn.NewTrainer(m, d.backend, nn.TrainConfig{LR: 1})
				if err != nil {
					return err
				}
				defer tr.Close()
				r, err := tr.Evaluate(setBatcher{s: test, norm: norm}, *batch)
				if err != nil {
					return err
				}
				if *jsonOut {
					return json.NewEncoder(e.stdout).Encode(map[string]any{
						"test_accuracy": r.Accuracy, "test_loss": r.Loss, "n": r.N, "device": d.backend.Name(),
						"images_per_second": float64(r.N) / r.Wall.Seconds(), "confusion": r.Confusion})
				}
				fmt.Fprintf(e.stdout, "device %s (%s)\n%s: %d test images, accuracy %.2f%%, loss %.4f, %.0f img/s\n",
					d.backend.Name(), d.reason, *dataSpec, r.N, 100*r.Accuracy, r.Loss, float64(r.N)/r.Wall.Seconds())
				fmt.Fprintln(e.stdout, "confusion matrix (rows: true class, columns: predicted):")
				var names []string
				_ = json.Unmarshal([]byte(meta["class_names"]), &names)
				for i, row := range r.Confusion {
					label := fmt.Sprint(i)
					if len(names) == len(r.Confusion) {
						label = fmt.Sprintf("%d %s", i, names[i])
					}
					fmt.Fprintf(e.stdout, "%12.12s |", label)
					for _, v := range row {
						fmt.Fprintf(e.stdout, " %5d", v)
					}
					fmt.Fprintln(e.stdout)
				}
				return nil
			}
		},
	}
}

func devicesCmd() *command {
	return &command{
		name:  "devices",
		usage: "devices",
		short: "list Vulkan devices and their capabilities",
		long:  `Devices lists the Vulkan devices the loader finds, with the limits and features vktrain uses.`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error { return listDevices(e) }
		},
	}
}
