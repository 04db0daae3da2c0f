// Package examples ships the example configuration inside the binary, so
// `hotline demo` runs from an empty directory.
package examples

import _ "embed"

// Config is examples/hotline.yaml: a realistic managed-service provider.
//
//go:embed hotline.yaml
var Config []byte
