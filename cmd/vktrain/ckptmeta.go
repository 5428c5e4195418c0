package main

import (
	"encoding/json"
	"fmt"

	"github.com/vktrain/vktrain/data"
)

// checkpointInputs reads what inference needs from a checkpoint's metadata
// besides the model: the input normalisation, and the class names (nil
// when the file has none or not one per class).
func checkpointInputs(ckpt string, meta map[string]string, classes int) (data.Norm, []string, error) {
	var norm data.Norm
	if err := json.Unmarshal([]byte(meta["norm"]), &norm); err != nil {
		return norm, nil, fmt.Errorf("%s: data normalisation metadata: %w", ckpt, err)
	}
	var names []string
	if s := meta["class_names"]; s != "" && s != "null" {
		if err := json.Unmarshal([]byte(s), &names); err != nil {
			return norm, nil, fmt.Errorf("%s: class_names metadata: %w", ckpt, err)
		}
	}
	if len(names) != classes {
		names = nil
	}
	return norm, names, nil
}
