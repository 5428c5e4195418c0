// Package xvfb lets tests look at windows as a person would: it starts a
// virtual X server (Xvfb), takes screenshots of windows and presses keys in
// them, speaking the X11 protocol in pure Go (github.com/jezek/xgb), so it
// needs neither cgo nor X11 client tools.
package xvfb

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// Start starts Xvfb with one 1280x800x24 screen on a display number it
// picks itself (-displayfd), with a fresh MIT-MAGIC-COOKIE-1 in an
// authority file that it names in XAUTHORITY for the rest of the test,
// stops it when the test ends, and returns the display name (":N"). It
// skips the test, saying so, when Xvfb is not installed.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb is not installed (Debian: apt-get install xvfb, or run tools/setup.sh): skipping the window test")
	}
	auth, err := authority(t.TempDir())
	if err != nil {
		t.Fatalf("writing an X authority file: %v", err)
	}
	t.Setenv("XAUTHORITY", auth)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-displayfd", "3", "-auth", auth, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
		r.Close()
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb exited without reporting a display number")
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatal("Xvfb did not report a display number within 20 s")
	}
	return ""
}

// authority writes an X authority file in dir with one entry, a random
// MIT-MAGIC-COOKIE-1 valid for any host and display (family "wild").
func authority(dir string) (string, error) {
	cookie := make([]byte, 16)
	if _, err := rand.Read(cookie); err != nil {
		return "", err
	}
	var b []byte
	field := func(v []byte) {
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	b = binary.BigEndian.AppendUint16(b, 0xffff) // FamilyWild
	field(nil)                                   // address
	field(nil)                                   // display number: any
	field([]byte("MIT-MAGIC-COOKIE-1"))
	field(cookie)
	p := filepath.Join(dir, "Xauthority")
	return p, os.WriteFile(p, b, 0o600)
}

// Screenshot reads the contents of window on display as an image.
func Screenshot(display string, window uint64) (*image.RGBA, error) {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("connecting to X display %s: %w", display, err)
	}
	defer c.Close()
	win := xproto.Window(window)
	geo, err := xproto.GetGeometry(c, xproto.Drawable(win)).Reply()
	if err != nil {
		return nil, fmt.Errorf("geometry of window %#x: %w", window, err)
	}
	if geo.Depth != 24 && geo.Depth != 32 {
		return nil, fmt.Errorf("window %#x has depth %d; want 24 or 32", window, geo.Depth)
	}
	rep, err := xproto.GetImage(c, xproto.ImageFormatZPixmap, xproto.Drawable(win), 0, 0, geo.Width, geo.Height, 0xffffffff).Reply()
	if err != nil {
		return nil, fmt.Errorf("GetImage of window %#x: %w", window, err)
	}
	w, h := int(geo.Width), int(geo.Height)
	if len(rep.Data) < 4*w*h {
		return nil, fmt.Errorf("GetImage returned %d bytes for %dx%d pixels", len(rep.Data), w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ { // ZPixmap at depth 24/32 is B, G, R, X on little-endian servers
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = rep.Data[4*i+2], rep.Data[4*i+1], rep.Data[4*i], 255
	}
	return img, nil
}

// PressKey focuses window and types the key whose keysym is keysym (for a
// letter, its lower-case ASCII code) through the XTEST extension.
func PressKey(display string, window uint64, keysym uint32) error {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return fmt.Errorf("connecting to X display %s: %w", display, err)
	}
	defer c.Close()
	if err := xtest.Init(c); err != nil {
		return fmt.Errorf("XTEST: %w", err)
	}
	setup := xproto.Setup(c)
	root := setup.DefaultScreen(c).Root
	first, n := setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)
	km, err := xproto.GetKeyboardMapping(c, first, n).Reply()
	if err != nil {
		return err
	}
	code := byte(0)
	per := int(km.KeysymsPerKeycode)
	for i := 0; i < int(n) && code == 0; i++ {
		for j := 0; j < per; j++ {
			if uint32(km.Keysyms[i*per+j]) == keysym {
				code = byte(first) + byte(i)
				break
			}
		}
	}
	if code == 0 {
		return fmt.Errorf("no key of display %s types keysym %#x", display, keysym)
	}
	win := xproto.Window(window)
	if err := xproto.SetInputFocusChecked(c, xproto.InputFocusParent, win, xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("focusing window %#x: %w", window, err)
	}
	if err := xtest.FakeInputChecked(c, xproto.KeyPress, code, 0, root, 0, 0, 0).Check(); err != nil {
		return err
	}
	if err := xtest.FakeInputChecked(c, xproto.KeyRelease, code, 0, root, 0, 0, 0).Check(); err != nil {
		return err
	}
	_, err = xproto.GetInputFocus(c).Reply() // a round trip: the server has processed the keys
	return err
}

// FindWindow returns the first top-level window on display whose name
// contains name, waiting up to timeout for it to appear (and be mapped).
func FindWindow(display, name string, timeout time.Duration) (uint64, error) {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return 0, fmt.Errorf("connecting to X display %s: %w", display, err)
	}
	defer c.Close()
	root := xproto.Setup(c).DefaultScreen(c).Root
	deadline := time.Now().Add(timeout)
	for {
		tree, err := xproto.QueryTree(c, root).Reply()
		if err != nil {
			return 0, err
		}
		for _, w := range tree.Children {
			attr, err := xproto.GetWindowAttributes(c, w).Reply()
			if err != nil || attr.MapState != xproto.MapStateViewable {
				continue
			}
			prop, err := xproto.GetProperty(c, false, w, xproto.AtomWmName, xproto.GetPropertyTypeAny, 0, 256).Reply()
			if err == nil && strings.Contains(string(prop.Value), name) {
				return uint64(w), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, errors.New("no window named " + name + " on display " + display)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
