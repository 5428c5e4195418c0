package vk

import "math"

func f32bits(v float32) uint32 { return math.Float32bits(v) }
