package serve_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/jpeg" // the screenshot's format
	_ "image/png"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/serve"
)

// browser starts Debian's headless chromium, as root in a container can
// run it, and returns a chromedp context; everything ends with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Debian's chromium is needed (.ci/run installs it)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

func TestDebugPageInABrowser(t *testing.T) {
	const token = "debug-t0ken"
	f := newFixture(t, []cardauth.ServiceOption{cardauth.WithFault(modelDown)}, serve.WithTokens(token))
	auth := http.Header{"Authorization": {"Bearer " + token}}
	decide := f.url + "/v1/graphs/cardauth/decide"
	for _, id := range []string{"1", "2", "3", "4"} {
		call(t, "POST", decide, req(id), auth, nil) // the model falls back
	}
	// A run that runs out of time: a failure.
	if resp := call(t, "POST", decide, req("5"), http.Header{"Authorization": auth["Authorization"], serve.DeadlineHeader: {"1"}}, nil); resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("a 1 ms deadline: %d, want 504", resp.StatusCode)
	}
	if resp := call(t, "GET", f.url+serve.DebugPath, nil, nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the debug page without a token: %d, want 401", resp.StatusCode)
	}
	resp := call(t, "GET", f.url+serve.DebugPath, nil, auth, nil)
	page := bodyOf(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Latest runs with fallbacks") {
		t.Fatalf("debug page: %d %.300s", resp.StatusCode, page)
	}

	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"Authorization": "Bearer " + token}})
			return err
		}),
		chromedp.Navigate(f.url+serve.DebugPath),
		chromedp.WaitVisible(chromedp.CSS(`.graph-picture svg`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	title := run(t, ctx, chromedp.Title())
	graphSVGs := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('.graph-picture svg').length`))
	waterfalls := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('.waterfall svg').length`))
	// An SVG rendered: the browser laid it out with a size and drew its shapes.
	drawn := run(t, ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll('svg')).filter(s => {
		const b = s.getBoundingClientRect();
		return b.width > 50 && b.height > 20 && s.querySelectorAll('rect, polygon, path, ellipse, text').length > 5;
	}).length`))
	shot := run(t, ctx, chromedp.FullScreenshot(90))
	if title != "featgraph serve" {
		t.Errorf("title %q", title)
	}
	if graphSVGs != 1 {
		t.Errorf("%d graph pictures, want 1", graphSVGs)
	}
	// Slowest runs (up to 5), 4 with fallbacks, 1 failure, each drawn.
	if waterfalls < 6 {
		t.Errorf("%d waterfalls, want at least 6", waterfalls)
	}
	if drawn != graphSVGs+waterfalls {
		t.Errorf("%d of %d SVGs rendered with a size and shapes", drawn, graphSVGs+waterfalls)
	}
	img, format, err := image.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot (%d bytes) is not an image: %v", len(shot), err)
	}
	t.Logf("screenshot: %s, %v, %d bytes", format, img.Bounds(), len(shot))
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 600 {
		t.Errorf("screenshot of %v", b)
	}
	if !notBlank(img) {
		t.Error("the screenshot is blank")
	}
}

// run runs one browser action and returns its value.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// notBlank reports whether an image has more than a few colours: text,
// boxes and bars, not an empty page.
func notBlank(img image.Image) bool {
	colours := map[color.Color]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			colours[img.At(x, y)] = true
			if len(colours) > 10 {
				return true
			}
		}
	}
	return false
}
