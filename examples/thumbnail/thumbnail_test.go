package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/payload.json")

// photo draws a deterministic 1600×1200 picture with smooth gradients and
// detail, standing in for a photograph.
func photo() image.Image {
	const w, h = 1600, 1200
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/w, float64(y)/h
			r := 128 + 100*math.Sin(6*fx+3*fy)
			g := 128 + 90*math.Cos(5*fy-2*fx)
			b := 128 + 80*math.Sin(40*fx*fy)
			if (x/40+y/40)%2 == 0 {
				r, g = r*0.9, g*0.95
			}
			img.Set(x, y, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	return img
}

func encodeJPEG(t *testing.T, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestPayloadFile(t *testing.T) {
	const path = "testdata/payload.json"
	if *update {
		req := Request{Image: encodeJPEG(t, photo()), Widths: []int{160, 320, 640}, Quality: 80}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	var req Request
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	resp, err := handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.SourceWidth != 1600 || resp.SourceHeight != 1200 || resp.SourceFormat != "jpeg" {
		t.Errorf("source = %d×%d %s, want 1600×1200 jpeg", resp.SourceWidth, resp.SourceHeight, resp.SourceFormat)
	}
	want := [][2]int{{160, 120}, {320, 240}, {640, 480}}
	if len(resp.Thumbnails) != len(want) {
		t.Fatalf("%d thumbnails, want %d", len(resp.Thumbnails), len(want))
	}
	for i, th := range resp.Thumbnails {
		if th.Width != want[i][0] || th.Height != want[i][1] || th.Bytes == 0 || len(th.SHA256) != 64 || th.Data != "" {
			t.Errorf("thumbnail %d = %+v, want %d×%d with a size and digest, no data", i, th, want[i][0], want[i][1])
		}
	}
}

func TestThumbnailDecodes(t *testing.T) {
	var src bytes.Buffer
	if err := png.Encode(&src, image.NewGray(image.Rect(0, 0, 300, 100))); err != nil {
		t.Fatal(err)
	}
	resp, err := handle(context.Background(), Request{Image: base64.StdEncoding.EncodeToString(src.Bytes()), Widths: []int{30}, IncludeData: true})
	if err != nil {
		t.Fatal(err)
	}
	th := resp.Thumbnails[0]
	data, err := base64.StdEncoding.DecodeString(th.Data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{30, 10}) || resp.SourceFormat != "png" {
		t.Errorf("thumbnail %v from %s, want 30×10 from png", got, resp.SourceFormat)
	}
}

func TestBadRequests(t *testing.T) {
	img := base64.StdEncoding.EncodeToString([]byte("not an image"))
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"no image", Request{}, "image is required"},
		{"not base64", Request{Image: "%%%"}, "not base64"},
		{"not an image", Request{Image: img}, "not a JPEG or PNG"},
		{"width 0", Request{Image: img, Widths: []int{0}}, "width 0 out of"},
		{"width too large", Request{Image: img, Widths: []int{5000}}, "width 5000 out of"},
		{"quality", Request{Image: img, Quality: 101}, "quality 101"},
		{"too many widths", Request{Image: img, Widths: make([]int, 17)}, "at most 16 widths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handle(context.Background(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
