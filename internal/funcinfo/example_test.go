package funcinfo_test

import (
	"fmt"

	"github.com/twinego/twine/internal/funcinfo"
)

func tick() {}

func ExampleOf() {
	name, where := funcinfo.Of(tick)
	fmt.Println(name)
	fmt.Println(where)
	// Output:
	// funcinfo_test.tick
	// example_test.go:9
}
