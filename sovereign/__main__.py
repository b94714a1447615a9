from sovereign.cli import main

main(prog_name="sovereign")
