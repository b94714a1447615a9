from sovereign.entry import main

main(prog_name="sovereign")
