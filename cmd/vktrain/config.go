package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
)

// explicitFlags returns the names of the flags set on the command line.
func explicitFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// applyConfig reads a JSON object of flag names to values from path and
// sets every flag that given does not already hold (explicit flags win).
// The names it sets are added to given. Values may be strings, numbers or
// booleans; unknown names and values a flag rejects are usage errors.
func applyConfig(fs *flag.FlagSet, path string, given map[string]bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return usagef("--config: %v", err)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return usagef("--config %s: want a JSON object of flag names to values: %v", path, err)
	}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "config" {
			return usagef("--config %s: a config file cannot name another config file", path)
		}
		if fs.Lookup(k) == nil {
			return usagef("--config %s: unknown flag %q (see vktrain help %s)", path, k, fs.Name())
		}
		if given[k] {
			continue
		}
		v, err := configValue(raw[k])
		if err != nil {
			return usagef("--config %s: %q: %v", path, k, err)
		}
		if err := fs.Set(k, v); err != nil {
			return usagef("--config %s: %q: %v", path, k, err)
		}
		given[k] = true
	}
	return nil
}

// configValue renders a JSON scalar as a flag value.
func configValue(m json.RawMessage) (string, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(m))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("value %s is not a string, number or boolean", m)
}
