//go:build tools

// Package tools pins the kwok command that simulates the local cluster's nodes and pods.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
