from bench.train_speed import main

main()
