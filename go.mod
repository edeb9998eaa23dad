module github.com/ffatpm/ffatpm

go 1.26.8
