from memgrid.cli.main import main

main()
