from photoguard_core.cli import main

main()
